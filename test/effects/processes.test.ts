import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalIssuer } from '../../src/auth/local-issuer.js';
import { loadConfig } from '../../src/config.js';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../support/databases.js';
import { REPS_URL } from '../support/fixtures.js';
import {
  builtService,
  migratedDataDir,
  type RunningServer,
  runCommand,
  startServiceProcess,
} from '../support/process.js';
import { startSmtpServer, type TestSmtpServer } from './support/smtp.js';
import { eventually } from './support/wait.js';

const EFFECT_TIMINGS = {
  EFFECTS_RETRY_BASE_MS: '50',
  EFFECTS_RETRY_MAX_MS: '300',
  EFFECTS_POLL_MS: '50',
  EFFECTS_CALL_TIMEOUT_MS: '1000',
  EFFECTS_LEASE_MS: '4000',
};

const build = builtService();
let smtp: TestSmtpServer;
const running: RunningServer[] = [];

beforeAll(async () => {
  smtp = await startSmtpServer();
}, 120_000);
afterAll(async () => {
  await Promise.all(running.map((service) => service.stop('SIGKILL')));
  await smtp.close();
});

const putRep = (url: string, token: string, n: number | string) =>
  fetch(`${url}${REPS_URL}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      firstName: 'Proc',
      lastName: `Rep${n}`,
      email: `proc${n}@example.com`,
      repNumber: `P-${n}`,
    }),
  });
const welcomeMailsTo = (prefix: string) =>
  smtp.received.filter((mail) => mail.to && 'text' in mail.to && mail.to.text.startsWith(prefix));

describe.each(databaseKinds)('service processes on %s', (kind) => {
  let dataDir: string;
  let database: TestDatabase | undefined;
  let env: Record<string, string>;
  let adminToken: string;

  beforeAll(async () => {
    dataDir =
      kind === 'pglite'
        ? migratedDataDir('salesreps-processes-')
        : fs.mkdtempSync(path.join(os.tmpdir(), 'salesreps-processes-'));
    if (kind === 'postgres') {
      database = await openTestDatabase(kind);
    }
    env = {
      DATA_DIR: dataDir,
      ...(database?.url ? { DATABASE_URL: database.url } : {}),
      MAIL: 'smtp',
      SMTP_URL: smtp.url,
      ...EFFECT_TIMINGS,
    };
    const identityOrganizationId = `org_processes_${kind}`;
    const created = await runCommand(
      process.execPath,
      [build.cli, 'org', 'create', '--name', 'Process Org', '--identity-org', identityOrganizationId],
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    const issuer = await openLocalIssuer(loadConfig(env).auth);
    adminToken = await issuer.sign(
      { userId: 'admin', organization: identityOrganizationId, roles: ['Admin'] },
      600,
    );
  });
  afterAll(async () => {
    await database?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('a process killed after the commit and before the send: after a restart the welcome mails go out, each once', async () => {
    await smtp.down();
    const first = await startServiceProcess(build.cli, env);
    running.push(first);
    for (let n = 1; n <= 3; n++)
      expect((await putRep(first.url, adminToken, `${kind}-${n}`)).status).toBe(200);
    // The mail server is down: the effects are committed, tried, and not sent when the process dies.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await first.stop('SIGKILL')).toBeNull();
    await smtp.up();

    const second = await startServiceProcess(build.cli, env);
    running.push(second);
    await eventually(() => expect(welcomeMailsTo(`proc${kind}-`)).toHaveLength(3), 20_000);
    await eventually(async () => {
      const open = await fetch(`${second.url}/api/organizations/effects`, {
        headers: { authorization: `Bearer ${adminToken}` },
      });
      expect(await open.json()).toEqual([]);
    });
    expect(
      welcomeMailsTo(`proc${kind}-`)
        .map((mail) => (mail.to && 'text' in mail.to ? mail.to.text : ''))
        .sort(),
    ).toEqual([1, 2, 3].map((n) => `proc${kind}-${n}@example.com`));
    // SIGTERM: the workers stop, the process closes cleanly.
    expect(await second.stop('SIGTERM')).toBe(0);
  });

  if (kind === 'postgres') {
    it('two processes on one PostgreSQL, 200 reps added through both: exactly 200 welcome mails and 200 provider users', async () => {
      const replicas = [await startServiceProcess(build.cli, env), await startServiceProcess(build.cli, env)];
      running.push(...replicas);
      const numbers = Array.from({ length: 200 }, (_, i) => 1000 + i);
      for (let offset = 0; offset < numbers.length; offset += 20) {
        const batch = numbers.slice(offset, offset + 20);
        const statuses = await Promise.all(
          batch.map((n, i) =>
            putRep(replicas[i % 2]?.url ?? '', adminToken, n).then((response) => response.status),
          ),
        );
        expect(statuses.every((status) => status === 200)).toBe(true);
      }
      const db = database?.db;
      if (!db) throw new Error('no database');
      await eventually(async () => {
        const open = await db.selectFrom('effect').select('id').where('status', '<>', 'done').execute();
        expect(open).toEqual([]);
      }, 60_000);
      const mails = welcomeMailsTo('proc1')
        .concat(welcomeMailsTo('proc2'))
        .filter((mail) => /^proc1[0-1]\d\d@/.test(mail.to && 'text' in mail.to ? mail.to.text : ''));
      expect(mails).toHaveLength(200);
      expect(new Set(mails.map((mail) => (mail.to && 'text' in mail.to ? mail.to.text : ''))).size).toBe(200);
      const accounts = await db
        .selectFrom('idp_account')
        .select('id')
        .where('email', 'like', 'proc1%')
        .execute();
      expect(accounts).toHaveLength(200);
      const memberships = await db
        .selectFrom('idp_membership')
        .innerJoin('idp_account', 'idp_account.id', 'idp_membership.account_id')
        .select('account_id')
        .where('idp_account.email', 'like', 'proc1%')
        .execute();
      expect(memberships).toHaveLength(200);
      // Both replicas did work.
      expect(replicas.every((replica) => replica.output().length > 0)).toBe(true);
      for (const replica of replicas) expect(await replica.stop('SIGTERM')).toBe(0);
    }, 120_000);
  }
});
