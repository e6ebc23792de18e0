#!/usr/bin/env node
// Where the test suite's CPU time goes: runs the given tiers one after another (default unit, integration and
// process) and prints, per tier, the tests, the CPU seconds of vitest's process tree and of the PostgreSQL server,
// and the files that cost most. A tool for the maintainers; it is not part of the service.
//
//   node scripts/suite-cpu.js [tier ...] [--top N] [--json FILE] [--postmaster PID]
//
// The PostgreSQL server's CPU (with --postmaster, the pid in its postmaster.pid) is read from /proc: the
// postmaster's processes and the backends it has reaped. It is the tests' only when no one else uses that server:
// start one of your own for the measurement (docs/contributing.md). Per file: the CPU of the vitest worker and of
// the processes it spawned and reaped while the file ran (test/support/cpu-per-file.ts), not the server's.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: 'string', default: '15' },
    json: { type: 'string' },
    postmaster: { type: 'string' },
  },
});
const tiers = positionals.length ? positionals : ['unit', 'integration', 'process'];
const TICKS = 100; // USER_HZ on Linux
// The first line of the server's postmaster.pid; without it the server's CPU is not counted.
const postmaster = values.postmaster ? Number(values.postmaster) : undefined;

/** User + system seconds of a process's stat line: its own, and with `reaped` those of the children it waited for. */
function statSeconds(pid, reaped) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // 11..14: utime, stime, cutime, cstime
  const [utime, stime, cutime, cstime] = fields.slice(11, 15).map(Number);
  return { parent: Number(fields[1]), seconds: (utime + stime + (reaped ? cutime + cstime : 0)) / TICKS };
}

/** The PostgreSQL server's user + system seconds: the postmaster, its live processes and the backends it reaped. */
function serverSeconds() {
  if (!postmaster) return 0;
  let seconds = statSeconds(postmaster, true).seconds;
  for (const pid of fs.readdirSync('/proc').filter((name) => /^[0-9]+$/.test(name))) {
    try {
      const child = statSeconds(pid, false);
      if (child.parent === postmaster) seconds += child.seconds;
    } catch {
      // gone meanwhile: the postmaster's reaped time has it
    }
  }
  return seconds;
}

const results = [];
for (const tier of tiers) {
  const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'suite-cpu-')), 'files.jsonl');
  const report = path.join(path.dirname(log), 'report.json');
  const serverBefore = serverSeconds();
  const started = Date.now();
  const child = spawnSync(
    '/usr/bin/time',
    [
      '-f',
      '%U %S %M',
      '-o',
      path.join(path.dirname(log), 'time'),
      'npx',
      'vitest',
      'run',
      '--config',
      'scripts/suite-cpu.vitest.config.ts',
      '--project',
      tier,
      '--reporter=dot',
      '--reporter=json',
      `--outputFile.json=${report}`,
    ],
    { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, CPU_PER_FILE_LOG: log } },
  );
  const wall = (Date.now() - started) / 1000;
  const server = serverSeconds() - serverBefore;
  const [user, system, maxKb] = fs
    .readFileSync(path.join(path.dirname(log), 'time'), 'utf8')
    .trim()
    .split('\n')
    .at(-1)
    .split(' ')
    .map(Number);
  const json = fs.existsSync(report) ? JSON.parse(fs.readFileSync(report, 'utf8')) : {};
  const files = fs.existsSync(log)
    ? fs
        .readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line))
    : [];
  results.push({
    tier,
    status: child.status,
    tests: json.numTotalTests,
    passed: json.numPassedTests,
    failed: json.numFailedTests,
    wall,
    vitest: user + system,
    server,
    maxRssMb: Math.round(maxKb / 1024),
    files: files.sort((a, b) => b.seconds - a.seconds),
  });
}

const row = (cells) => `| ${cells.join(' | ')} |`;
console.log(
  `\n${os
    .loadavg()
    .map((load) => load.toFixed(2))
    .join(' ')} (load average at the end)\n`,
);
console.log(row(['tier', 'tests', 'failed', 'wall s', 'vitest CPU-s', 'server CPU-s', 'total CPU-s']));
console.log(row(['---', '---', '---', '---', '---', '---', '---']));
for (const r of results) {
  console.log(
    row([
      r.tier,
      r.tests,
      r.failed,
      r.wall.toFixed(0),
      r.vitest.toFixed(1),
      r.server.toFixed(1),
      (r.vitest + r.server).toFixed(1),
    ]),
  );
}
const sum = (key) => results.reduce((total, r) => total + (r[key] ?? 0), 0);
console.log(
  row([
    'all',
    sum('tests'),
    sum('failed'),
    sum('wall').toFixed(0),
    sum('vitest').toFixed(1),
    sum('server').toFixed(1),
    (sum('vitest') + sum('server')).toFixed(1),
  ]),
);
const top = results
  .flatMap((r) => r.files.map((file) => ({ ...file, tier: r.tier })))
  .sort((a, b) => b.seconds - a.seconds)
  .slice(0, Number(values.top));
console.log(`\nTop ${top.length} files by CPU (worker + its reaped children):\n`);
console.log(row(['file', 'tier', 'tests', 'CPU-s', 'of which children']));
console.log(row(['---', '---', '---', '---', '---']));
for (const file of top) {
  console.log(row([file.file, file.tier, file.tests, file.seconds.toFixed(1), file.children.toFixed(1)]));
}
if (values.json) fs.writeFileSync(values.json, JSON.stringify(results, null, 2));
