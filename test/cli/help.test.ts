import fs from 'node:fs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  builtService,
  migratedDataDir,
  type RunningServer,
  runCommand,
  startServer,
  tempDir,
} from '../support/process.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 180_000 });

/** Every command and subcommand, with the options its --help must list. */
const COMMANDS: [string[], string[]][] = [
  [['serve'], ['--no-migrate']],
  [['migrate'], []],
  [['openapi'], []],
  [
    ['org', 'create'],
    ['--name', '--identity-org'],
  ],
  [['token'], ['--org', '--user', '--role', '--ttl']],
  [['keys', 'rotate'], ['--retire-after']],
  [['backup'], ['--out']],
  [['restore'], ['--from']],
  [
    ['effects', 'list'],
    ['--org', '--status', '--limit'],
  ],
  [['effects', 'retry'], ['--id']],
  [['idp', 'users'], []],
];

const build = builtService();
const dirs: string[] = [];
let server: RunningServer | undefined;
const salesreps = (args: string[], env: Record<string, string> = {}) =>
  runCommand(process.execPath, [build.cli, ...args], env);

afterAll(async () => {
  await server?.stop();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function dataDir(migrated = false): string {
  const dir = migrated ? migratedDataDir('salesreps-help-') : tempDir('salesreps-help-');
  dirs.push(dir);
  return dir;
}

describe('the command line conventions', () => {
  it('prints the version of the package with --version, exit 0', async () => {
    const { version } = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    const result = await salesreps(['--version']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`${version}\n`);
  });

  it('answers `<command> --help` for every command and subcommand with its usage and options, exit 0', async () => {
    const env = { DATA_DIR: dataDir() };
    for (const [name, options] of COMMANDS) {
      for (const flag of ['--help', '-h']) {
        const result = await salesreps([...name, flag], env);
        expect(result.code, `${name.join(' ')} ${flag}: ${result.stderr}`).toBe(0);
        expect(result.stderr).toBe('');
        expect(result.stdout).toMatch(new RegExp(`^Usage: salesreps ${name.join(' ')}\\b`));
        for (const option of [...options, '--help']) expect(result.stdout).toContain(option);
      }
    }
    for (const group of ['org', 'effects', 'idp']) {
      const result = await salesreps([group, '--help'], env);
      expect(result.code, group).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^Usage: salesreps ${group} <subcommand>`));
    }
  });

  it('answers a bare `salesreps` with the usage on stderr, nothing on stdout, exit 2', async () => {
    const result = await salesreps([]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^salesreps: No command given\.\n\nUsage: salesreps <command>/);
  });

  it('answers usage errors with the message on stderr, nothing on stdout, exit 2', async () => {
    const env = { DATA_DIR: dataDir() };
    for (const [args, message] of [
      [['token', '--org'], /--org/],
      [['token', '--org', 'o', '--user', 'u', '--role', 'Admin', '--bogus'], /Unknown option '--bogus'/],
      [['token', '--org', 'o', '--user', 'u'], /Missing --role/],
      [
        ['token', '--org', 'o', '--user', 'u', '--role', 'Admin', '--ttl', '1e3'],
        /--ttl must be a whole number/,
      ],
      [['effects'], /"effects" needs a subcommand/],
      [['effects', 'purge'], /"effects" has no subcommand "purge"/],
      [['effects', 'list', '--status', 'done'], /--status must be pending or dead/],
      [['effects', 'retry', '--id', 'abc'], /--id must be an effect id/],
      [['migrate', 'now'], /Unexpected argument 'now'/],
      [['org', 'create', '--name', 'Acme'], /Missing --identity-org/],
    ] as const) {
      const result = await salesreps([...args], env);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stdout, args.join(' ')).toBe('');
      expect(result.stderr, args.join(' ')).toMatch(/^salesreps: /);
      expect(result.stderr, args.join(' ')).toMatch(message);
    }
  });

  it('prints the OpenAPI document without a database: the checked-in client/openapi.json', async () => {
    const result = await salesreps(['openapi'], { DATA_DIR: '/nonexistent/salesreps' });
    expect(result.code, result.stderr).toBe(0);
    const checkedIn = fs.readFileSync(new URL('../../client/openapi.json', import.meta.url), 'utf8');
    expect(result.stdout).toBe(checkedIn);
  });

  it('parses arguments before opening a database: help and usage errors work while a server holds it', async () => {
    const env = { DATA_DIR: dataDir(true), DEMO: 'false' };
    server = await startServer(process.execPath, [build.cli, 'serve'], env);
    for (const name of [['effects', 'list'], ['org', 'create'], ['migrate'], ['idp', 'users']]) {
      const help = await salesreps([...name, '--help'], env);
      expect(help.code, `${name.join(' ')}: ${help.stderr}`).toBe(0);
      expect(help.stdout).toMatch(/^Usage: /);
    }
    const wrong = await salesreps(['effects', 'list', '--limit', '0'], env);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--limit must be a whole number');
    expect(wrong.stderr).not.toContain('in use by process');
    // A well-formed command does need the database, and says that a server holds it.
    const busy = await salesreps(['effects', 'list'], env);
    expect(busy.code).toBe(2);
    expect(busy.stderr).toContain('in use by process');
  });
});
