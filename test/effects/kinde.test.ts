import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openLocalIssuer } from '../../src/auth/local-issuer.js';
import { type Config, loadConfig } from '../../src/config.js';
import type { Organization } from '../../src/db/schema.js';
import { createEffects, type Effects } from '../../src/effects/runtime.js';
import { newId } from '../../src/kernel/ids.js';
import { createService, type Service } from '../../src/main.js';
import { createOrganization } from '../../src/organizations/service.js';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../support/databases.js';
import { addRep as addRepThroughApi, REPS_URL } from '../support/fixtures.js';
import { startFakeKinde } from './support/fake-kinde.js';
import { eventually } from './support/wait.js';

describe.each(databaseKinds)(
  'IDP=kinde against a local Kinde that enforces its API description, on %s',
  (kind) => {
    let kinde: Awaited<ReturnType<typeof startFakeKinde>>;
    let database: TestDatabase;
    let app: FastifyInstance;
    let effects: Effects;
    let service: Service;
    let config: Config;
    let dataDir: string;
    let acme: Organization;
    let globex: Organization;
    let tokens: Record<string, string>;
    let counter = 0;

    const call = (organization: Organization, method: 'PUT' | 'POST' | 'DELETE', url: string, body: object) =>
      app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${tokens[organization.id]}` },
        payload: body,
      });
    const addRep = (organization: Organization, email = `kinde-rep${++counter}@example.com`) =>
      addRepThroughApi(
        {
          call: (method, url, token, body) =>
            app.inject({
              method,
              url,
              headers: { authorization: `Bearer ${token}` },
              payload: body as object,
            }),
        },
        tokens[organization.id] ?? '',
        { firstName: 'Kim', lastName: 'Rep', email, repNumber: `K-${++counter}` },
      );
    const orgsOf = (userId: string) => [...(kinde.users.get(userId)?.organizations.keys() ?? [])];
    const openEffects = () =>
      database.db
        .selectFrom('effect')
        .select(['id', 'kind', 'status', 'last_error'])
        .where('status', '<>', 'done')
        .execute();

    beforeAll(async () => {
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'salesreps-kinde-'));
      kinde = await startFakeKinde({
        clientId: 'm2m-client',
        clientSecret: 'm2m-secret',
        audience: 'https://acme.kinde.test/api',
      });
      config = loadConfig({
        DATA_DIR: dataDir,
        IDP: 'kinde',
        KINDE_DOMAIN: kinde.url,
        KINDE_CLIENT_ID: 'm2m-client',
        KINDE_CLIENT_SECRET: 'm2m-secret',
        KINDE_AUDIENCE: 'https://acme.kinde.test/api',
        EFFECTS_RETRY_BASE_MS: '20',
        EFFECTS_RETRY_MAX_MS: '2000',
        EFFECTS_POLL_MS: '50',
        EFFECTS_CALL_TIMEOUT_MS: '2000',
        EFFECTS_LEASE_MS: '10000',
      });
      database = await openTestDatabase(kind);
      const issuer = await openLocalIssuer(config.auth);
      service = await createService(config, { database, log: false });
      ({ app, effects } = service);
      acme = await createOrganization(database.db, {
        name: 'Acme',
        identityOrganizationId: `org_${newId()}`,
      });
      globex = await createOrganization(database.db, {
        name: 'Globex',
        identityOrganizationId: `org_${newId()}`,
      });
      tokens = {
        [acme.id]: await issuer.sign(
          { userId: 'admin', organization: acme.identity_organization_id, roles: ['Admin'] },
          600,
        ),
        [globex.id]: await issuer.sign(
          { userId: 'admin', organization: globex.identity_organization_id, roles: ['Admin'] },
          600,
        ),
      };
    });
    afterAll(async () => {
      await effects.close();
      await service.close();
      await database.close();
      await kinde.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it('the PUT answers the Kinde user id, and the user joins the organization with the role keys', async () => {
      const rep = await addRep(acme);
      expect(rep.identityProvider).toBe('Kinde');
      expect(rep.identityProviderUserId).toMatch(/^kp_/);
      expect(kinde.users.has(rep.identityProviderUserId)).toBe(true);
      await eventually(() =>
        expect(
          kinde.users.get(rep.identityProviderUserId)?.organizations.get(acme.identity_organization_id),
        ).toEqual(['SalesRep']),
      );
      expect(kinde.state.rejected).toEqual([]);
    });

    it('reuses a Kinde user that exists with that email: finding it is success, not an error', async () => {
      const existingId = 'kp_existing0001';
      kinde.users.set(existingId, { id: existingId, email: 'already@example.com', organizations: new Map() });
      const rep = await addRep(acme, 'Already@Example.com');
      expect(rep.identityProviderUserId).toBe(existingId);
      await eventually(() => expect(orgsOf(existingId)).toEqual([acme.identity_organization_id]));
      expect([...kinde.users.values()].filter((user) => user.email === 'already@example.com')).toHaveLength(
        1,
      );
      expect(kinde.state.rejected).toEqual([]);
    });

    it('gets one M2M token and reuses it until shortly before it expires', () => {
      expect(kinde.state.tokensIssued).toBe(1);
    });

    it('rides out Kinde answering 500 and then 429 with Retry-After: every user is made once and joins once', async () => {
      await eventually(async () => expect(await openEffects()).toEqual([]));
      const usersBefore = kinde.users.size;
      const reps = [];
      for (let i = 0; i < 3; i++) reps.push(await addRep(acme));
      kinde.state.faults.serverErrors = 3;
      kinde.state.faults.rateLimited = 2;
      kinde.state.faults.retryAfterSeconds = 1;
      const started = Date.now();
      await eventually(async () => expect(await openEffects()).toEqual([]));
      // The 429s asked for a second's wait: nothing finished sooner.
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect(kinde.users.size).toBe(usersBefore + 3);
      for (const rep of reps)
        expect(orgsOf(rep.identityProviderUserId)).toEqual([acme.identity_organization_id]);
      const retried = await database.db
        .selectFrom('effect')
        .select('attempts')
        .where('kind', '=', 'identity.provision')
        .where('attempts', '>', 1)
        .execute();
      expect(retried.length).toBeGreaterThan(0);
      expect(kinde.state.rejected).toEqual([]);
    });

    describe('Kinde faults during the PUT, retried within the request', () => {
      const put = (email: string) =>
        call(acme, 'PUT', REPS_URL, {
          firstName: 'Flaky',
          lastName: 'Kinde',
          email,
          repNumber: `K-${++counter}`,
        });
      const kindeUsersWith = (email: string) =>
        [...kinde.users.values()].filter((user) => user.email.toLowerCase() === email);
      const repsWith = (email: string) =>
        database.db.selectFrom('sales_rep').select('id').where('email', '=', email).execute();
      const resetFaults = () => {
        Object.assign(kinde.state.faults, {
          serverErrors: 0,
          rateLimited: 0,
          retryAfterSeconds: 1,
          lostResponses: 0,
          operation: undefined,
        });
      };

      // Only the PUT talks to Kinde while a fault is armed: the worker has nothing left to carry out.
      beforeEach(async () => {
        await eventually(async () => expect(await openEffects()).toEqual([]));
        kinde.state.faultsServed = 0;
      });
      afterEach(resetFaults);

      it('one 500 is retried: the PUT answers 200 with the one user it made', async () => {
        const email = `one-500-${++counter}@example.com`;
        kinde.state.faults.serverErrors = 1;
        const response = await put(email);
        expect(response.statusCode).toBe(200);
        expect(kinde.state.faultsServed).toBe(1);
        expect(kindeUsersWith(email).map((user) => user.id)).toEqual([
          response.json().identityProviderUserId,
        ]);
        expect(kinde.state.rejected).toEqual([]);
      });

      it('a 429 with Retry-After: 1 is waited out within the request, no sooner than Kinde asked', async () => {
        const email = `rate-limited-${++counter}@example.com`;
        kinde.state.faults.rateLimited = 1;
        kinde.state.faults.retryAfterSeconds = 1;
        const started = Date.now();
        const response = await put(email);
        expect(response.statusCode).toBe(200);
        expect(Date.now() - started).toBeGreaterThanOrEqual(950);
        expect(kindeUsersWith(email)).toHaveLength(1);
      });

      it('a create whose answer was lost is found by email on the retry, never made twice', async () => {
        const email = `lost-create-${++counter}@example.com`;
        kinde.state.faults.operation = 'createUser';
        kinde.state.faults.lostResponses = 1;
        const response = await put(email);
        expect(response.statusCode).toBe(200);
        expect(kinde.state.faultsServed).toBe(1);
        const users = kindeUsersWith(email);
        expect(users).toHaveLength(1);
        expect(response.json().identityProviderUserId).toBe(users[0]?.id);
        expect(kinde.state.rejected).toEqual([]);
      });

      it('Kinde failing past the budget: a few attempts, then 503 with Retry-After, and nothing changed', async () => {
        const email = `outage-${++counter}@example.com`;
        kinde.state.faults.serverErrors = 1000;
        const response = await put(email);
        expect(response.statusCode).toBe(503);
        expect(response.headers['retry-after']).toBe('5');
        expect(response.json()).toMatchObject({
          type: 'urn:salesreps:problem:identity-provider-unavailable',
        });
        expect(kinde.state.faultsServed).toBeGreaterThanOrEqual(2);
        expect(kinde.state.faultsServed).toBeLessThanOrEqual(4);
        expect(await repsWith(email)).toEqual([]);
        expect(kindeUsersWith(email)).toEqual([]);
      });

      it('a 429 asking for more than the budget is not waited out: 503 at once with the Retry-After Kinde asked', async () => {
        const email = `long-wait-${++counter}@example.com`;
        kinde.state.faults.rateLimited = 1;
        kinde.state.faults.retryAfterSeconds = 30;
        const response = await put(email);
        expect(response.statusCode).toBe(503);
        expect(response.headers['retry-after']).toBe('30');
        expect(kinde.state.faultsServed).toBe(1);
        expect(await repsWith(email)).toEqual([]);
      });
    });

    it('deactivate removes the user from that organization only, never suspending it; activate adds it back', async () => {
      const email = `two-orgs${++counter}@example.com`;
      const inAcme = await addRep(acme, email);
      const inGlobex = await addRep(globex, email);
      expect(inGlobex.identityProviderUserId).toBe(inAcme.identityProviderUserId);
      const userId = inAcme.identityProviderUserId;
      await eventually(() =>
        expect(orgsOf(userId).sort()).toEqual(
          [acme.identity_organization_id, globex.identity_organization_id].sort(),
        ),
      );

      expect(
        (
          await call(acme, 'POST', `${REPS_URL}/deactivate`, {
            organizationSalesRepId: inAcme.organizationSalesRepId,
          })
        ).statusCode,
      ).toBe(200);
      await eventually(() => expect(orgsOf(userId)).toEqual([globex.identity_organization_id]));
      expect(
        (
          await call(acme, 'POST', `${REPS_URL}/activate`, {
            organizationSalesRepId: inAcme.organizationSalesRepId,
          })
        ).statusCode,
      ).toBe(200);
      await eventually(() =>
        expect(orgsOf(userId).sort()).toEqual(
          [acme.identity_organization_id, globex.identity_organization_id].sort(),
        ),
      );
      // The fake knows no updateUser (PATCH /api/v1/user): an is_suspended call would have been rejected.
      expect(kinde.state.rejected).toEqual([]);

      // Removed from one organization, the user stays; removed from its last, the user is deleted.
      expect(
        (await call(acme, 'DELETE', REPS_URL, { organizationSalesRepId: inAcme.organizationSalesRepId }))
          .statusCode,
      ).toBe(200);
      await eventually(() => expect(orgsOf(userId)).toEqual([globex.identity_organization_id]));
      expect(
        (await call(globex, 'DELETE', REPS_URL, { organizationSalesRepId: inGlobex.organizationSalesRepId }))
          .statusCode,
      ).toBe(200);
      await eventually(() => expect(kinde.users.has(userId)).toBe(false));
      await eventually(async () => expect(await openEffects()).toEqual([]));
      expect(kinde.state.rejected).toEqual([]);
    });

    it("a rep removed and added again with the same Kinde user: the old rep's late revoke leaves the active rep in the organization", async () => {
      const email = `again${++counter}@example.com`;
      const first = await addRep(acme, email);
      const userId = first.identityProviderUserId;
      await eventually(() => expect(orgsOf(userId)).toEqual([acme.identity_organization_id]));

      await effects.close();
      expect(
        (await call(acme, 'DELETE', REPS_URL, { organizationSalesRepId: first.organizationSalesRepId }))
          .statusCode,
      ).toBe(200);
      const second = await addRep(acme, email);
      expect(second.identityProviderUserId).toBe(userId);
      const firstRep = await database.db
        .selectFrom('effect')
        .select('sales_rep_id')
        .where('kind', '=', 'identity.revokeMembership')
        .where('payload', '@>', sql<unknown>`${JSON.stringify({ identityProviderUserId: userId })}::jsonb`)
        .executeTakeFirstOrThrow();
      // The old rep's effects wait in a retry backoff while the new rep is provisioned.
      const postpone = (at: Date) =>
        database.db
          .updateTable('effect')
          .set({ next_attempt_at: at })
          .where('sales_rep_id', '=', firstRep.sales_rep_id)
          .where('status', '=', 'pending')
          .execute();
      await postpone(new Date(Date.now() + 60_000));
      effects = createEffects(config, database.db);
      effects.start(app.log);
      await eventually(async () => {
        const provision = await database.db
          .selectFrom('effect')
          .select('status')
          .where('kind', '=', 'identity.provision')
          .where('sales_rep_id', '<>', firstRep.sales_rep_id)
          .where('payload', '@>', sql<unknown>`${JSON.stringify({ identityProviderUserId: userId })}::jsonb`)
          .executeTakeFirstOrThrow();
        expect(provision.status).toBe('done');
      });

      await postpone(new Date());
      await eventually(async () => {
        const open = await database.db
          .selectFrom('effect')
          .select('id')
          .where('sales_rep_id', '=', firstRep.sales_rep_id)
          .where('status', '<>', 'done')
          .execute();
        expect(open).toEqual([]);
      });
      expect(orgsOf(userId)).toEqual([acme.identity_organization_id]);
      expect(kinde.users.has(userId)).toBe(true);
      expect(kinde.state.rejected).toEqual([]);
    });

    it('the local Kinde itself refuses what its description does not allow (so a passing run means conforming calls)', async () => {
      const tokenResponse = await fetch(`${kinde.url}/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: 'm2m-client',
          client_secret: 'm2m-secret',
          audience: 'https://acme.kinde.test/api',
        }),
      });
      const { access_token: token } = (await tokenResponse.json()) as { access_token: string };
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const before = kinde.state.rejected.length;
      const unknownField = await fetch(`${kinde.url}/api/v1/user`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ profile: { nickname: 'x' } }),
      });
      const suspend = await fetch(`${kinde.url}/api/v1/user?id=kp_x`, {
        method: 'PATCH',
        headers,
        body: JSON.stringify({ is_suspended: true }),
      });
      const unknownQuery = await fetch(`${kinde.url}/api/v1/users?mail=a@b.c`, { headers });
      expect([unknownField.status, suspend.status, unknownQuery.status]).toEqual([400, 400, 400]);
      expect(kinde.state.rejected.length - before).toBe(3);
      kinde.state.rejected.length = before;
    });
  },
);
