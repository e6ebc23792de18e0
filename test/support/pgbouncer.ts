import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './ports.js';

/** Where Debian installs it (/usr/sbin is not on every PATH), else whatever PATH finds. */
function pgbouncerBinary(): string {
  if (fs.existsSync('/usr/sbin/pgbouncer')) return '/usr/sbin/pgbouncer';
  try {
    return execFileSync('sh', ['-c', 'command -v pgbouncer'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      'pgbouncer is not installed: these tests need it (apt-get install pgbouncer; .ci/run installs it)',
    );
  }
}

/**
 * A PgBouncer of the test's own in front of the PostgreSQL server `serverUrl` names: its own port on 127.0.0.1,
 * `pool_mode = transaction`, trust authentication, everything else PgBouncer's defaults (so it refuses unknown
 * startup parameters, as a production one does). `aliases` adds `[databases]` entries on that server (name →
 * settings, e.g. `{ single: 'dbname=postgres pool_size=1' }`); any other database name passes through to the
 * server's database of that name. PgBouncer refuses to run as root, so it runs as `postgres` then.
 */
export class PgBouncer {
  private constructor(
    private readonly directory: string,
    private readonly child: ChildProcess,
    private readonly exited: Promise<void>,
    readonly port: number,
  ) {}

  /** `url` with its host and port replaced by this PgBouncer's, and its database by `database` when given. */
  urlFor(url: string, database?: string): string {
    const through = new URL(url);
    through.hostname = '127.0.0.1';
    through.port = String(this.port);
    if (database) through.pathname = `/${database}`;
    return through.toString();
  }

  log(): string {
    return fs.readFileSync(path.join(this.directory, 'pgbouncer.log'), 'utf8');
  }

  static async start(serverUrl: string, aliases: Record<string, string> = {}): Promise<PgBouncer> {
    const binary = pgbouncerBinary();
    const server = new URL(serverUrl);
    const user = decodeURIComponent(server.username || 'postgres');
    const target = `host=${server.hostname} port=${server.port || 5432}`;
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'salesreps-pgbouncer-'));
    const port = await freePort();
    const entries = Object.entries(aliases).map(([name, settings]) => `${name} = ${target} ${settings}`);
    fs.writeFileSync(path.join(directory, 'userlist.txt'), `"${user}" ""\n`);
    fs.writeFileSync(
      path.join(directory, 'pgbouncer.ini'),
      [
        '[databases]',
        ...entries,
        `* = ${target}`,
        '[pgbouncer]',
        'listen_addr = 127.0.0.1',
        `listen_port = ${port}`,
        'unix_socket_dir =',
        'auth_type = trust',
        `auth_file = ${path.join(directory, 'userlist.txt')}`,
        'pool_mode = transaction',
        `logfile = ${path.join(directory, 'pgbouncer.log')}`,
        `pidfile = ${path.join(directory, 'pgbouncer.pid')}`,
        '',
      ].join('\n'),
    );
    const asRoot = process.getuid?.() === 0;
    if (asRoot) execFileSync('chown', ['-R', 'postgres:postgres', directory]);
    const config = path.join(directory, 'pgbouncer.ini');
    const child = asRoot
      ? spawn('runuser', ['-u', 'postgres', '--', binary, config], { stdio: 'ignore' })
      : spawn(binary, [config], { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const bouncer = new PgBouncer(directory, child, exited, port);
    const until = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null) {
        throw new Error(`pgbouncer exited with ${child.exitCode}:\n${bouncer.logIfAny()}`);
      }
      const client = new pg.Client({ connectionString: bouncer.urlFor(serverUrl) });
      try {
        await client.connect();
        await client.query('select 1');
        await client.end();
        return bouncer;
      } catch (error) {
        await client.end().catch(() => {});
        if (Date.now() > until) {
          await bouncer.stop();
          throw new Error(`pgbouncer did not accept connections: ${String(error)}\n${bouncer.logIfAny()}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  private logIfAny(): string {
    try {
      return this.log();
    } catch {
      return '(no log)';
    }
  }

  /** Stops this PgBouncer (by the pid it wrote, since under runuser the child is runuser) and removes its folder. */
  async stop(): Promise<void> {
    const pidFile = path.join(this.directory, 'pgbouncer.pid');
    if (this.child.exitCode === null && fs.existsSync(pidFile)) {
      process.kill(Number(fs.readFileSync(pidFile, 'utf8').trim()), 'SIGTERM');
    } else if (this.child.exitCode === null) {
      this.child.kill('SIGTERM');
    }
    await this.exited;
    fs.rmSync(this.directory, { recursive: true, force: true });
  }
}
