// The suite's configuration with the per-file CPU probe of scripts/suite-cpu.js.
import { mergeConfig } from 'vitest/config';
import suite from '../vitest.config.js';

export default mergeConfig(suite, { test: { setupFiles: ['test/support/cpu-per-file.ts'] } });
