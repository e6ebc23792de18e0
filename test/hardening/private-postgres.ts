import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../support/ports.js';

const run = promisify(execFile);
const BIN = '/usr/lib/postgresql/15/bin';

/**
 * A PostgreSQL server of the test's own (initdb into a temporary folder, its own port), so that a test may stop,
 * restart or freeze it without touching the shared server. initdb refuses root, so it runs as `postgres` then.
 */
export class PrivatePostgres {
  private constructor(
    readonly directory: string,
    readonly port: number,
    private readonly asPostgres: boolean,
  ) {}

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  static async create(): Promise<PrivatePostgres> {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'salesreps-pg-'));
    const asPostgres = process.getuid?.() === 0;
    if (asPostgres) await run('chown', ['postgres:postgres', directory]);
    const server = new PrivatePostgres(directory, await freePort(), asPostgres);
    await server.exec('initdb', [
      '-D',
      path.join(directory, 'data'),
      '-A',
      'trust',
      '-U',
      'postgres',
      '--no-sync',
    ]);
    await server.start();
    return server;
  }

  private exec(binary: string, args: string[]) {
    const command = path.join(BIN, binary);
    return this.asPostgres
      ? run('runuser', ['-u', 'postgres', '--', command, ...args], { cwd: this.directory })
      : run(command, args, { cwd: this.directory });
  }

  async start(): Promise<void> {
    await this.exec('pg_ctl', [
      '-D',
      path.join(this.directory, 'data'),
      '-l',
      path.join(this.directory, 'server.log'),
      '-w',
      '-o',
      `-p ${this.port} -k ${this.directory} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=30`,
      'start',
    ]);
  }

  /** Stops the server the way a restart does: connections are cut, new ones refused. */
  async stop(): Promise<void> {
    await this.exec('pg_ctl', ['-D', path.join(this.directory, 'data'), '-m', 'fast', '-w', 'stop']);
  }

  /** The ids of the server's processes: the postmaster and its children. */
  async processIds(): Promise<number[]> {
    const postmaster = Number(
      fs.readFileSync(path.join(this.directory, 'data', 'postmaster.pid'), 'utf8').split('\n')[0],
    );
    const { stdout } = await run('ps', ['-o', 'pid=', '--ppid', String(postmaster)]);
    return [
      postmaster,
      ...stdout
        .split('\n')
        .filter((line) => line.trim())
        .map(Number),
    ];
  }

  /** Freezes (SIGSTOP) or thaws (SIGCONT) every process of this server, by id: a server that hangs. */
  async signal(signal: 'SIGSTOP' | 'SIGCONT'): Promise<void> {
    for (const pid of await this.processIds()) process.kill(pid, signal);
  }

  async destroy(): Promise<void> {
    await this.stop().catch(() => {});
    fs.rmSync(this.directory, { recursive: true, force: true });
  }
}
