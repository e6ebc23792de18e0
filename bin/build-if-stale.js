#!/usr/bin/env node
// Builds dist/ (`npm run build`) only when it is missing or older than the sources: `npm install` and `npm start`
// run it, so that a start of an unchanged checkout compiles nothing and a built tree without sources (a
// production install) builds nothing.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
/** What the build reads: a file here newer than the build makes it stale. */
const SOURCES = ['src', 'console', 'tsconfig.json', 'tsconfig.build.json'];
/** What the build writes last of each of its two steps (the service's tsc, the console's Vite). */
const OUTPUTS = ['dist/cli.js', 'dist/console/index.html'];

/** The newest modification time of a file, or of any file below a folder; 0 when it does not exist. */
function newestChange(file) {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of fs.readdirSync(file, { recursive: true, withFileTypes: true })) {
    if (entry.isFile())
      newest = Math.max(newest, fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** Why dist/ must be built, or undefined when it is up to date. */
function staleness() {
  const built = OUTPUTS.map((output) => fs.statSync(path.join(root, output), { throwIfNoEntry: false }));
  if (built.some((stat) => !stat)) return 'dist/ has no build yet';
  const builtAt = Math.min(...built.map((stat) => stat.mtimeMs));
  const changed = SOURCES.find((source) => newestChange(path.join(root, source)) > builtAt);
  return changed && `${changed} changed since the last build`;
}

if (fs.existsSync(path.join(root, 'src'))) {
  const reason = staleness();
  if (reason) {
    if (!fs.existsSync(path.join(root, 'node_modules/typescript'))) {
      process.stderr.write(
        `salesreps: ${reason}, and this install has no compiler (npm ci --omit=dev): build where the dev ` +
          'dependencies are installed (npm ci && npm run build), then install the built tree.\n',
      );
      process.exit(1);
    }
    process.stderr.write(`salesreps: ${reason}: building (npm run build).\n`);
    const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
    process.exit(build.status ?? 1);
  }
}
