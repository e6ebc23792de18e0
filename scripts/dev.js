#!/usr/bin/env node
// `npm run dev`: the service restarting on every change under src/ (tsx watch) and the console through Vite's dev
// server, which proxies the service's routes to it (console/vite.config.ts); Ctrl-C stops both.
import { spawn } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const bin = (name) => path.join(root, 'node_modules/.bin', name);
const consolePort = process.env.CONSOLE_DEV_PORT ?? '5173';
const env = {
  ...process.env,
  CONSOLE_DEV_PORT: consolePort,
  // The browser sees one origin, Vite's: the sign-in's issuer, links and the console's redirect URI name it.
  PUBLIC_URL: process.env.PUBLIC_URL ?? `http://127.0.0.1:${consolePort}`,
};
// Each in a process group of its own, so that Ctrl-C reaches this script only, and each child gets one SIGTERM
// from it: tsx watch relays it to the service, which closes the database before it ends (a second signal would
// have tsx kill it at once). No stdin: a background process group reading the terminal would be stopped.
const options = { cwd: root, env, stdio: ['ignore', 'inherit', 'inherit'], detached: true };
const children = [
  spawn(bin('tsx'), ['watch', '--clear-screen=false', 'src/cli.ts', 'serve'], options),
  spawn(bin('vite'), ['--config', 'console/vite.config.ts'], options),
];

let stopping = false;
function stop(code) {
  if (stopping) return;
  stopping = true;
  process.exitCode = code;
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
}
for (const child of children) child.once('exit', (code) => stop(code ?? 1));
process.once('SIGINT', () => stop(0));
process.once('SIGTERM', () => stop(0));
