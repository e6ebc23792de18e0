// The CPU a test file costs, for scripts/suite-cpu.js: the worker's own and that of the processes it spawned and
// reaped while the file ran. Loaded only by scripts/suite-cpu.vitest.config.ts.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll } from 'vitest';

const TICKS_PER_SECOND = 100;

function ticks(): { own: number; children: number } {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  // After the command's name: state, parent, ..., then utime, stime, cutime, cstime from the 12th on.
  const [utime = 0, stime = 0, cutime = 0, cstime = 0] = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .slice(11, 15)
    .map(Number);
  return { own: utime + stime, children: cutime + cstime };
}

const start = ticks();
// biome-ignore lint/correctness/noEmptyPattern: vitest reads a hook's first parameter as the fixtures it asks for
afterAll(({}, suite) => {
  const log = process.env.CPU_PER_FILE_LOG;
  if (!log) return;
  const end = ticks();
  const count = (tasks: typeof suite.tasks): number =>
    tasks.reduce((total, task) => total + (task.type === 'suite' ? count(task.tasks) : 1), 0);
  const own = (end.own - start.own) / TICKS_PER_SECOND;
  const children = (end.children - start.children) / TICKS_PER_SECOND;
  fs.appendFileSync(
    log,
    `${JSON.stringify({ file: path.relative(process.cwd(), suite.file.filepath), tests: count(suite.tasks), seconds: own + children, children })}\n`,
  );
});
