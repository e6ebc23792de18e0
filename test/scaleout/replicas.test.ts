import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalIssuer, openLocalIssuer } from '../../src/auth/local-issuer.js';
import { loadConfig } from '../../src/config.js';
import type { Db } from '../../src/db/database.js';
import type { InvitationEmail } from '../../src/effects/outbox.js';
import { createOrganization } from '../../src/organizations/service.js';
import { eventually } from '../effects/support/wait.js';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../support/databases.js';
import { PgBouncer } from '../support/pgbouncer.js';
import { builtService, type RunningServer, startServiceProcess } from '../support/process.js';
import {
  type AssignmentState,
  Balancer,
  type Exchange,
  runClient,
  type TrackedAssignment,
} from './support/traffic.js';

const REPLICAS = 3;
const CLIENTS = 6;
const EMAILS_PER_CLIENT = 6;
const REQUESTS_PER_CLIENT = 150;
const RUN_MS = 30_000;
const KILL_AFTER_MS = 15_000;
const KILLED = 2;

/** Fast effect timings, so that the killed replica's leases run out within seconds. */
const EFFECT_TIMINGS = {
  EFFECTS_POLL_MS: '50',
  EFFECTS_RETRY_BASE_MS: '50',
  EFFECTS_RETRY_MAX_MS: '500',
  EFFECTS_CALL_TIMEOUT_MS: '500',
  EFFECTS_LEASE_MS: '3000',
};

const build = builtService();
let root: string;
const running: RunningServer[] = [];

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'salesreps-scaleout-'));
}, 120_000);
afterAll(async () => {
  await Promise.all(running.map((service) => service.stop('SIGKILL')));
  fs.rmSync(root, { recursive: true, force: true });
});

/** The mail files of one replica's DATA_DIR, by effect id (MAIL=file writes `<recipient>_<time>_effect-<id>.eml`). */
function mailFiles(dataDir: string): Map<string, string> {
  const directory = path.join(dataDir, 'mail');
  const files = new Map<string, string>();
  if (!fs.existsSync(directory)) return files;
  for (const name of fs.readdirSync(directory)) {
    const match = name.match(/_effect-(\d+)\.eml$/);
    if (match?.[1]) files.set(match[1], fs.readFileSync(path.join(directory, name), 'utf8'));
  }
  return files;
}

/** The final state of every assignment in the database, by `identityOrganizationId|email`. */
async function assignmentsInDatabase(db: Db): Promise<Map<string, AssignmentState>> {
  const rows = await db
    .selectFrom('organization_sales_rep as a')
    .innerJoin('organization as o', 'o.id', 'a.organization_id')
    .select(['o.identity_organization_id', 'a.email', 'a.id', 'a.rep_number', 'a.active'])
    .execute();
  return new Map(
    rows.map((row) => [
      `${row.identity_organization_id}|${row.email}`,
      { id: row.id, repNumber: row.rep_number, active: row.active },
    ]),
  );
}

/** Whether two states agree; an add whose answer was lost has no known id, and matches any. */
function sameState(expected: AssignmentState, actual: AssignmentState | undefined): boolean {
  const found = actual ?? null;
  if (expected === null || found === null) return expected === found;
  return (
    (expected.id === undefined || expected.id === found.id) &&
    expected.repNumber === found.repNumber &&
    expected.active === found.active
  );
}

describe.each(databaseKinds)('replicas on %s', (kind) => {
  if (kind === 'pglite') {
    it('one embedded database admits one replica: a second process on the same DATA_DIR refuses to start', async () => {
      const env = { DATA_DIR: path.join(root, 'embedded') };
      const first = await startServiceProcess(build.cli, env);
      running.push(first);
      await expect(startServiceProcess(build.cli, env)).rejects.toThrow(
        /embedded database .* is in use by process \d+/,
      );
      // The first replica is unharmed.
      expect((await fetch(`${first.url}/readyz`)).status).toBe(200);
      expect(await first.stop('SIGTERM')).toBe(0);
    });
  }

  if (kind === 'postgres') {
    let issuer: LocalIssuer;
    let keyFile: string;
    const databases: TestDatabase[] = [];

    beforeAll(async () => {
      // Replicas that use the built-in issuer share its key file (docs/deploy.md); each has its own DATA_DIR.
      keyFile = path.join(root, 'issuer-key.json');
      issuer = await openLocalIssuer(loadConfig({ DATA_DIR: root, AUTH_LOCAL_KEY_FILE: keyFile }).auth);
    });
    afterAll(async () => {
      await Promise.all(databases.map((database) => database.close()));
    });

    it('three replicas under mixed traffic, one killed with SIGKILL mid-run: every 2xx write is stored, every effect ' +
      'is carried out once, and only the killed replica fails requests', async () => {
      await mixedTrafficWithAKill('direct', (url) => url);
    }, 120_000);

    it('the same through PgBouncer in transaction mode (its defaults otherwise), started by the test on its own port', async () => {
      // Without pgbouncer installed this fails (PgBouncer.start says so); it never skips.
      const database = await openTestDatabase(kind);
      databases.push(database);
      const bouncer = await PgBouncer.start(database.url ?? '');
      try {
        await mixedTrafficWithAKill('pgbouncer', (url) => bouncer.urlFor(url), database);
        // Every replica connected through it and none was refused a startup parameter.
        expect(bouncer.log()).not.toMatch(/unsupported startup parameter/);
      } finally {
        await bouncer.stop();
      }
    }, 180_000);

    /**
     * The run of docs/deploy.md on a fresh database: replicas that reach it at `replicaUrl(url)` (directly, or
     * through a pooler), checked on a direct connection.
     */
    async function mixedTrafficWithAKill(
      label: string,
      replicaUrl: (url: string) => string,
      given?: TestDatabase,
    ): Promise<void> {
      const database = given ?? (await openTestDatabase(kind));
      if (!given) databases.push(database);
      const db = database.db;
      const organizations = await Promise.all(
        ['North', 'South'].map((name) =>
          createOrganization(db, {
            name: `${name} Scale Supplies`,
            identityOrganizationId: `org_scale_${name}`,
          }),
        ),
      );
      const dataDirs = Array.from({ length: REPLICAS }, (_, index) =>
        path.join(root, label, `replica-${index}`),
      );
      const replicas = await Promise.all(
        dataDirs.map((dataDir) =>
          startServiceProcess(build.cli, {
            DATA_DIR: dataDir,
            DATABASE_URL: replicaUrl(database.url ?? ''),
            DATABASE_POOL_SIZE: '4',
            AUTH_LOCAL_KEY_FILE: keyFile,
            MAIL: 'file',
            // One admin token drives all the traffic; the rate limit is not what this test is about.
            RATE_LIMIT_MAX: '1000000',
            ...EFFECT_TIMINGS,
          }),
        ),
      );
      running.push(...replicas);

      const tokens = new Map<string, string>();
      for (const organization of organizations) {
        tokens.set(
          organization.id,
          await issuer.sign(
            { userId: 'scale-admin', organization: organization.identity_organization_id, roles: ['Admin'] },
            600,
          ),
        );
      }
      const balancer = new Balancer(replicas);
      const exchanges: Exchange[] = [];
      const staleReads: string[] = [];
      const assignments: TrackedAssignment[][] = Array.from({ length: CLIENTS }, (_, client) =>
        Array.from({ length: EMAILS_PER_CLIENT }).flatMap((_, n) =>
          organizations.map((organization) => ({
            organizationId: organization.id,
            identityOrganizationId: organization.identity_organization_id,
            email: `scale.c${client}.e${n}@example.com`,
            state: null,
            added: 0,
            reactivated: 0,
          })),
        ),
      );

      const startAt = Date.now();
      let killIssuedAt = Number.POSITIVE_INFINITY;
      let leasedAtKill = new Set<string>();
      const killer = (async () => {
        await new Promise((resolve) => setTimeout(resolve, KILL_AFTER_MS));
        // The balancer's health check fails it; requests already on its connections are lost with it.
        balancer.remove(KILLED);
        killIssuedAt = Date.now();
        expect(await replicas[KILLED]?.stop('SIGKILL')).toBeNull();
        // Effects the killed replica held stay leased until their lease runs out; only these may run twice.
        const leased = await db
          .selectFrom('effect')
          .select(sql<string>`id::text`.as('id'))
          .where('status', '=', 'pending')
          .where('lease_until', '>', sql<Date>`now()`)
          .execute();
        leasedAtKill = new Set(leased.map((row) => row.id));
      })();
      await Promise.all([
        killer,
        ...assignments.map((own, client) =>
          runClient({
            client,
            balancer,
            tokens,
            assignments: own,
            requests: REQUESTS_PER_CLIENT,
            startAt,
            durationMs: RUN_MS,
            exchanges,
            staleReads,
          }),
        ),
      ]);

      // Traffic: all three replicas served, and the run went on after the kill.
      for (let index = 0; index < REPLICAS; index++) {
        expect(
          exchanges.filter((exchange) => exchange.replica === index && exchange.status).length,
        ).toBeGreaterThan(50);
      }
      expect(exchanges.filter((exchange) => exchange.startedAt > killIssuedAt).length).toBeGreaterThan(200);
      expect(exchanges.length).toBeGreaterThan((CLIENTS * REQUESTS_PER_CLIENT) / 2);

      // No 5xx at all; no 4xx either (every request is valid for the state its client knows). Requests without an
      // answer are only those on the killed replica's connections, at or after the kill.
      const answeredBadly = exchanges.filter(
        (exchange) => exchange.status !== undefined && exchange.status >= 300,
      );
      expect(answeredBadly).toEqual([]);
      const unanswered = exchanges.filter((exchange) => exchange.status === undefined);
      expect(
        unanswered.filter((exchange) => exchange.replica !== KILLED || exchange.endedAt < killIssuedAt),
      ).toEqual([]);
      // A list through any replica shows the writes its client saw answered 2xx through any other.
      expect(staleReads).toEqual([]);

      // Every effect is carried out once the queue drains: the killed replica's leases run out and others take over.
      await eventually(async () => {
        const open = await db
          .selectFrom('effect')
          .select(['id', 'status'])
          .where('status', '<>', 'done')
          .execute();
        expect(open).toEqual([]);
      }, 30_000);

      // Every 2xx write is in the database: the final state per assignment is what the last 2xx answer left; an
      // assignment whose last write was lost with the killed replica is in the state before or after that write.
      const stored = await assignmentsInDatabase(db);
      const tracked = assignments.flat();
      for (const assignment of tracked) {
        const found = stored.get(`${assignment.identityOrganizationId}|${assignment.email}`);
        const { unanswered: lost } = assignment;
        if (lost) {
          expect(
            sameState(lost.before, found) || sameState(lost.after, found),
            `${assignment.email} after a lost ${lost.operation}`,
          ).toBe(true);
        } else {
          expect(sameState(assignment.state, found), assignment.email).toBe(true);
        }
      }
      expect(stored.size).toBeLessThanOrEqual(tracked.length);

      // Each effect was claimed once (attempts counts claims), except those the killed replica held: a second
      // replica took them over after the lease ran out.
      const effects = await db
        .selectFrom('effect')
        .select([sql<string>`id::text`.as('id'), 'organization_id', 'kind', 'payload', 'attempts', 'outcome'])
        .orderBy('id')
        .execute();
      expect(effects.filter((effect) => effect.attempts !== 1 && !leasedAtKill.has(effect.id))).toEqual([]);
      expect(effects.filter((effect) => effect.attempts > 2)).toEqual([]);

      // Mail: one message per event and recipient — a welcome per add, a re-invitation per reactivation, each
      // written by one replica only (two only for an effect taken over from the killed replica), to the rep.
      const files = dataDirs.map(mailFiles);
      const mailEffects = effects.filter((effect) => effect.kind.startsWith('email.'));
      for (const effect of mailEffects) {
        const holders = files.flatMap((byId, replica) => (byId.has(effect.id) ? [replica] : []));
        if (leasedAtKill.has(effect.id)) {
          expect(holders.length, `mail of effect ${effect.id}`).toBeGreaterThanOrEqual(1);
          expect(holders.filter((replica) => replica !== KILLED).length).toBeLessThanOrEqual(1);
        } else {
          expect(holders, `mail of effect ${effect.id}`).toHaveLength(1);
        }
        const to = (effect.payload as InvitationEmail).to;
        for (const replica of holders) {
          expect(files[replica]?.get(effect.id)).toMatch(
            new RegExp(`^To: ${to.replaceAll('.', '\\.')}$`, 'm'),
          );
        }
      }
      const everyMailFile = new Set(files.flatMap((byId) => [...byId.keys()]));
      expect([...everyMailFile].sort()).toEqual(mailEffects.map((effect) => effect.id).sort());
      for (const assignment of tracked) {
        const mine = mailEffects.filter(
          (effect) =>
            effect.organization_id === assignment.organizationId &&
            (effect.payload as InvitationEmail).to === assignment.email,
        );
        const lost = assignment.unanswered;
        const found = stored.get(`${assignment.identityOrganizationId}|${assignment.email}`);
        const lostCommitted =
          lost !== undefined && sameState(lost.after, found) && !sameState(lost.before, found);
        expect(mine.filter((effect) => effect.kind === 'email.welcome').length, assignment.email).toBe(
          assignment.added + (lostCommitted && lost.operation === 'add' ? 1 : 0),
        );
        expect(mine.filter((effect) => effect.kind === 'email.reinvitation').length, assignment.email).toBe(
          assignment.reactivated + (lostCommitted && lost.operation === 'activate' ? 1 : 0),
        );
      }

      // The identity provider holds exactly the reps that exist, each a member of the organizations where it is
      // active.
      const accounts = await db.selectFrom('idp_account').select(['id', 'email']).orderBy('id').execute();
      const reps = await db
        .selectFrom('sales_rep')
        .select(['identity_provider_user_id as id', 'email'])
        .orderBy('identity_provider_user_id')
        .execute();
      expect(accounts).toEqual(reps);
      const memberships = await db
        .selectFrom('idp_membership')
        .select(['account_id', 'identity_organization_id', 'roles'])
        .orderBy('account_id')
        .orderBy('identity_organization_id')
        .execute();
      const activeAssignments = await db
        .selectFrom('organization_sales_rep as a')
        .innerJoin('sales_rep as r', 'r.id', 'a.sales_rep_id')
        .innerJoin('organization as o', 'o.id', 'a.organization_id')
        .select(['r.identity_provider_user_id as account_id', 'o.identity_organization_id', 'a.roles'])
        .where('a.active', '=', true)
        .orderBy('r.identity_provider_user_id')
        .orderBy('o.identity_organization_id')
        .execute();
      expect(memberships).toEqual(activeAssignments);

      for (const index of [0, 1]) expect(await replicas[index]?.stop('SIGTERM')).toBe(0);
    }
  }
});
