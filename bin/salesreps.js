#!/usr/bin/env -S node --max-semi-space-size=4
// The command is written in TypeScript and built into dist/ by `npm install` (the prepare script).
// A 4 MB young generation (V8's default is 16) keeps a busy service's peak memory near 180 MB instead of 210,
// at no throughput measurable in `npm run bench` (docs/performance.md).
import '../dist/cli.js';
