#!/usr/bin/env node
// The command is written in TypeScript and built into dist/ by `npm install` (the prepare script).
import '../dist/cli.js';
