#!/usr/bin/env -S node --max-semi-space-size=4 --heap-growing-percent=100
// The command is written in TypeScript and built into dist/ by `npm install` (the prepare script).
// V8's heap sized for a service that keeps ~30 MB live: a 4 MB young generation (default 16) and an old generation
// collected when it doubles (default: up to four times). A busy service peaks near 130 MB instead of 210, at no
// CPU or throughput measurable in `npm run bench` (docs/performance.md, "Memory").
import '../dist/cli.js';
