// The image without a container engine: the Dockerfile's runtime stage repeated in a temporary folder, a production
// install of the built tree (runtime dependencies only, no compiler), and the service started from it with the
// image's command and environment.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort } from '../support/ports.js';
import {
  builtService,
  type Finished,
  processEnv,
  ROOT,
  type RunningServer,
  startServer,
  tempDir,
} from '../support/process.js';

// npm downloads the runtime dependencies from the registry: minutes on a busy machine.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 600_000 });
const LISTEN_WITHIN_MS = 150_000;

/** The instructions of the Dockerfile's last stage (the runtime image), continuation lines joined. */
interface Instruction {
  keyword: string;
  /** What follows the keyword, with `--flag=value` options taken off. */
  args: string;
  options: Record<string, string>;
}

function runtimeStage(dockerfile: string): { base: string; instructions: Instruction[] } {
  const lines = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const stageStart = lines.findLastIndex((line) => /^FROM\s/i.test(line));
  const instructions = lines.slice(stageStart + 1).map((line) => {
    const [keyword = '', ...rest] = line.split(/\s+/);
    const options: Record<string, string> = {};
    let args = rest.join(' ');
    for (
      let option = args.match(/^--([\w-]+)=(\S+)\s+/);
      option;
      option = args.match(/^--([\w-]+)=(\S+)\s+/)
    ) {
      options[option[1] ?? ''] = option[2] ?? '';
      args = args.slice(option[0].length);
    }
    return { keyword: keyword.toUpperCase(), args, options };
  });
  return { base: lines[stageStart]?.split(/\s+/)[1] ?? '', instructions };
}

/** `ENV A=1 B=2` as a record. */
const envOf = (args: string) => Object.fromEntries(args.split(/\s+/).map((pair) => pair.split('=', 2)));

function run(command: string, cwd: string): Promise<Finished> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      'sh',
      ['-c', command],
      { cwd, env: processEnv({}), timeout: 540_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      },
    );
  });
}

describe("the image's runtime stage, repeated in a folder (Dockerfile)", () => {
  const stage = runtimeStage(fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
  const all = (keyword: string) =>
    stage.instructions.filter((instruction) => instruction.keyword === keyword);
  const last = (keyword: string) => all(keyword).at(-1)?.args ?? '';
  const imageEnv = Object.assign({}, ...all('ENV').map((instruction) => envOf(instruction.args))) as Record<
    string,
    string
  >;
  let tree: string;
  let dataDir: string;
  const installs: Finished[] = [];
  /** RUN steps that set up the image's own filesystem (absolute paths): not repeated on this machine. */
  const imageOnly: string[] = [];
  let service: RunningServer | undefined;

  beforeAll(async () => {
    const build = builtService();
    tree = tempDir('salesreps-production-');
    dataDir = tempDir('salesreps-production-data-');
    for (const { keyword, args, options } of stage.instructions) {
      if (keyword === 'COPY') {
        // `COPY --from=build /app/dist/ dist/`: the build stage's output is the run's build of the service.
        const sources = args.split(/\s+/);
        const destination = sources.pop() ?? '';
        for (const source of sources) {
          const from =
            options.from === undefined
              ? path.join(ROOT, source)
              : path.join(build.root, source.replace(/^\/app\//, ''));
          const into = destination.endsWith('/') && !source.endsWith('/') ? path.basename(source) : '';
          fs.cpSync(from, path.join(tree, destination, into), { recursive: true });
        }
      } else if (keyword === 'RUN') {
        if (/(^|\s)\//.test(args)) imageOnly.push(args);
        else installs.push(await run(args, tree));
      }
    }
  });
  afterAll(async () => {
    await service?.stop();
    fs.rmSync(tree, { recursive: true, force: true });
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("runs on node:24-slim as an unprivileged user, listening on every address, with a health check and npm start's command", () => {
    expect(stage.base).toMatch(/^node:24-slim(@|$)/);
    expect(last('USER')).toMatch(/^(node|[1-9]\d*)$/);
    expect(imageEnv).toMatchObject({
      NODE_ENV: 'production',
      HOST: '0.0.0.0',
      PORT: '3000',
      DATA_DIR: '/data',
    });
    expect(last('HEALTHCHECK')).toMatch(/^CMD \[/);
    // `npm start`'s command, Node's flags included (decision 49).
    const start = String(JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.start);
    expect(JSON.parse(last('CMD'))).toEqual(start.split(/\s+/));
    expect(JSON.parse(last('CMD'))).toEqual([
      'node',
      expect.stringMatching(/^--max-semi-space-size=/),
      'dist/cli.js',
      'serve',
    ]);
    expect(imageOnly).toEqual([expect.stringContaining('chown node:node /data')]);
  });

  it('installs without building: npm ci exits 0, and no compiler, dev dependency or source is in the image', () => {
    expect(installs.length).toBeGreaterThan(0);
    for (const install of installs) expect(install.code, `${install.stdout}\n${install.stderr}`).toBe(0);
    expect(fs.existsSync(path.join(tree, 'node_modules/fastify'))).toBe(true);
    for (const devOnly of ['typescript', 'vite', 'vitest', '@biomejs/biome', '@stoplight/spectral-cli']) {
      expect(fs.existsSync(path.join(tree, 'node_modules', devOnly)), devOnly).toBe(false);
    }
    expect(fs.readdirSync(tree).sort()).toEqual([
      'bin',
      'dist',
      'node_modules',
      'package-lock.json',
      'package.json',
    ]);
  });

  it("starts with the image's command and environment, answers its probes, and its HEALTHCHECK passes", async () => {
    const [command = '', ...args] = JSON.parse(last('CMD')) as string[];
    expect(command).toBe('node');
    // The image's environment; its /data is the volume, here a folder, and its port one free on this machine.
    const port = String(await freePort());
    service = await startServer(
      process.execPath,
      args,
      { ...imageEnv, DATA_DIR: dataDir, PORT: port, DEMO: 'false' },
      LISTEN_WITHIN_MS,
      tree,
    );
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
    const healthcheck = JSON.parse(last('HEALTHCHECK').replace(/^CMD\s+/, '')) as string[];
    expect(healthcheck[0]).toBe('node');
    const checked = await new Promise<number | null>((resolve) =>
      execFile(
        process.execPath,
        healthcheck.slice(1),
        { env: processEnv({ PORT: port }), cwd: tree },
        (error) => resolve(error ? (typeof error.code === 'number' ? error.code : null) : 0),
      ),
    );
    expect(checked).toBe(0);
  });
});
