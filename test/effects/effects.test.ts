import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { Organization } from '../../src/db/schema.js';
import { createEffects, type Effects } from '../../src/effects/runtime.js';
import { databaseKinds } from '../support/databases.js';
import { addRep as addRepThroughApi, EFFECTS_URL, REPS_URL } from '../support/fixtures.js';
import { startReceiver, TEST_WEBHOOK_SECRET } from '../support/receiver.js';
import { startTestService, type TestService } from '../support/service.js';
import { deliveryCheck } from '../support/webhook-document.js';
import { startSmtpServer, type TestSmtpServer } from './support/smtp.js';
import { eventually } from './support/wait.js';

describe.each(databaseKinds)('effects carried out by the worker on %s', (kind) => {
  let service: TestService;
  let smtp: TestSmtpServer;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let effects: Effects;
  let organization: Organization;
  let admin: string;
  let dataDir: string;
  let repCounter = 0;
  // The worker logs through a real pino logger into these lines.
  const logLines: string[] = [];
  let logHost: FastifyInstance;
  const CONCURRENCY = 3;

  const startEffects = () => {
    const config = loadConfig({
      DATA_DIR: dataDir,
      MAIL: 'smtp',
      SMTP_URL: smtp.url,
      SYNC: 'webhook',
      SYNC_WEBHOOK_URL: receiver.url,
      SYNC_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
      LOGIN_URL: 'https://login.example.com/{org}/signin',
      EFFECTS_RETRY_BASE_MS: '20',
      EFFECTS_RETRY_MAX_MS: '200',
      EFFECTS_MAX_ATTEMPTS: '12',
      EFFECTS_POLL_MS: '50',
      EFFECTS_CALL_TIMEOUT_MS: '2000',
      EFFECTS_LEASE_MS: '10000',
      EFFECTS_CONCURRENCY: String(CONCURRENCY),
    });
    effects = createEffects(config, service.db);
    effects.start(logHost.log);
  };

  const addRep = (overrides: Record<string, string> = {}) => {
    repCounter++;
    return addRepThroughApi(service, admin, {
      firstName: 'Rep',
      lastName: `Number${repCounter}`,
      email: `rep${repCounter}@example.com`,
      repNumber: `R-${repCounter}`,
      ...overrides,
    });
  };

  const mailsTo = (address: string) =>
    smtp.received.filter((mail) => mail.to && 'text' in mail.to && mail.to.text === address);
  const openEffects = () =>
    service.db.selectFrom('effect').select(['id', 'status']).where('status', '<>', 'done').execute();

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'salesreps-effects-'));
    service = await startTestService(kind);
    smtp = await startSmtpServer();
    receiver = await startReceiver({ secret: TEST_WEBHOOK_SECRET, path: '/sync' });
    organization = await service.createOrganization('Smith & <Sons>');
    admin = await service.token(organization, 'admin-1', ['Admin']);
    logHost = Fastify({
      logger: { level: 'info', stream: { write: (line: string) => logLines.push(line) } },
    });
    startEffects();
  });
  afterAll(async () => {
    await effects.close();
    await smtp.close();
    await receiver.close();
    await logHost.close();
    await service.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('sends the welcome mail over SMTP with text and HTML parts, the escaped organization name, rep number and login link', async () => {
    const rep = await addRep({ firstName: 'Ann<script>', repNumber: 'R-&-1' });
    const [mail] = await eventually(() => {
      const found = mailsTo(`rep${repCounter}@example.com`);
      expect(found).toHaveLength(1);
      return found;
    });
    expect(mail?.subject).toBe('Welcome to Smith & <Sons> as a sales rep');
    const link = `https://login.example.com/${organization.identity_organization_id}/signin`;
    expect(mail?.text).toContain('Your rep number: R-&-1');
    expect(mail?.text).toContain(link);
    expect(mail?.html).toContain('Smith &amp; &lt;Sons&gt;');
    expect(mail?.html).toContain('Ann&lt;script&gt;');
    expect(mail?.html).toContain('<strong>R-&amp;-1</strong>');
    expect(mail?.html).toContain(`href="${link}"`);
    expect(mail?.html).not.toContain('<script>');
    const welcome = await service.db
      .selectFrom('effect')
      .select('id')
      .where('sales_rep_id', '=', rep.salesRepId)
      .where('kind', '=', 'email.welcome')
      .executeTakeFirstOrThrow();
    expect(mail?.messageId).toBe(`<effect-${welcome.id}@salesreps>`);
  });

  it('creates the local identity provider account under the reserved id, with the membership and roles', async () => {
    const rep = await addRep();
    const membership = await eventually(async () => {
      const row = await service.db
        .selectFrom('idp_membership')
        .selectAll()
        .where('account_id', '=', rep.identityProviderUserId)
        .executeTakeFirstOrThrow();
      return row;
    });
    expect(membership).toMatchObject({
      identity_organization_id: organization.identity_organization_id,
      roles: ['SalesRep'],
    });
  });

  it('tells the data-sync webhook of the grant, signed per Standard Webhooks, with the effect id as webhook-id', async () => {
    const rep = await addRep();
    const delivery = await eventually(() => {
      const found = receiver.deliveries.find((entry) => entry.data.salesRepId === rep.salesRepId);
      if (!found) throw new Error('no delivery yet');
      return found;
    });
    const effect = await service.db
      .selectFrom('effect')
      .select('id')
      .where('sales_rep_id', '=', rep.salesRepId)
      .where('kind', '=', 'sync.grant')
      .executeTakeFirstOrThrow();
    expect(delivery).toEqual({
      id: String(effect.id),
      type: 'salesrep.access.granted',
      data: {
        salesRepId: rep.salesRepId,
        organizationId: organization.id,
        repNumber: `R-${repCounter}`,
        email: `rep${repCounter}@example.com`,
      },
    });
    expect(receiver.state.rejectedSignatures).toBe(0);
  });

  it('survives the SMTP server and the webhook receiver being down: every effect is carried out once, none lost or doubled', async () => {
    await smtp.down();
    receiver.state.down = true;
    const reps = [];
    for (let i = 0; i < 5; i++) reps.push(await addRep());
    // Let the workers fail a few times against the outage.
    await eventually(async () => {
      const failing = await service.db
        .selectFrom('effect')
        .select('id')
        .where('status', '=', 'pending')
        .where('attempts', '>=', 2)
        .execute();
      expect(failing.length).toBeGreaterThanOrEqual(5);
    });
    await smtp.up();
    receiver.state.down = false;
    await eventually(async () => expect(await openEffects()).toEqual([]));
    for (const rep of reps) {
      const email = (
        await service.db
          .selectFrom('sales_rep')
          .select('email')
          .where('id', '=', rep.salesRepId)
          .executeTakeFirstOrThrow()
      ).email;
      expect(mailsTo(email)).toHaveLength(1);
      expect(receiver.deliveries.filter((entry) => entry.data.salesRepId === rep.salesRepId)).toHaveLength(1);
    }
  });

  it("carries out a rep's effects of one channel in the order they were recorded, even across an outage", async () => {
    receiver.state.down = true;
    const rep = await addRep();
    const body = { organizationSalesRepId: rep.organizationSalesRepId };
    expect((await service.call('POST', `${REPS_URL}/deactivate`, admin, body)).statusCode).toBe(200);
    expect((await service.call('POST', `${REPS_URL}/activate`, admin, body)).statusCode).toBe(200);
    receiver.state.down = false;
    await eventually(async () => expect(await openEffects()).toEqual([]));
    const types = receiver.deliveries
      .filter((entry) => entry.data.salesRepId === rep.salesRepId)
      .map((entry) => entry.type);
    expect(types).toEqual(['salesrep.access.granted', 'salesrep.access.revoked', 'salesrep.access.granted']);
  });

  it('deactivate removes the membership and refuses the SalesRep token; activate restores it and re-invites', async () => {
    const rep = await addRep();
    const email = `rep${repCounter}@example.com`;
    const repToken = await service.token(organization, rep.identityProviderUserId, ['SalesRep']);
    const body = { organizationSalesRepId: rep.organizationSalesRepId };
    const membership = () =>
      service.db
        .selectFrom('idp_membership')
        .select('roles')
        .where('account_id', '=', rep.identityProviderUserId)
        .executeTakeFirst();
    await eventually(async () => expect(await membership()).toBeDefined());
    expect((await service.call('GET', '/api/salesreps/organizations', repToken)).statusCode).toBe(200);

    expect((await service.call('POST', `${REPS_URL}/deactivate`, admin, body)).statusCode).toBe(200);
    await eventually(async () => expect(await membership()).toBeUndefined());
    expect((await service.call('GET', '/api/salesreps/organizations', repToken)).statusCode).toBe(403);

    expect((await service.call('POST', `${REPS_URL}/activate`, admin, body)).statusCode).toBe(200);
    await eventually(async () => expect(await membership()).toEqual({ roles: ['SalesRep'] }));
    const reinvitation = await eventually(() => {
      const found = mailsTo(email).filter((mail) => mail.subject?.includes('restored'));
      expect(found).toHaveLength(1);
      return found[0];
    });
    expect(reinvitation?.text).toContain(`Your rep number: R-${repCounter}`);
    expect((await service.call('GET', '/api/salesreps/organizations', repToken)).statusCode).toBe(200);
  });

  it('deleting the last organization deletes the provider account and the sync account', async () => {
    const rep = await addRep();
    const account = () =>
      service.db
        .selectFrom('idp_account')
        .select('id')
        .where('id', '=', rep.identityProviderUserId)
        .executeTakeFirst();
    await eventually(async () => expect(await account()).toBeDefined());
    const response = await service.call('DELETE', REPS_URL, admin, {
      organizationSalesRepId: rep.organizationSalesRepId,
    });
    expect(response.statusCode).toBe(200);
    await eventually(async () => expect(await account()).toBeUndefined());
    await eventually(() =>
      expect(
        receiver.deliveries
          .filter((entry) => entry.data.salesRepId === rep.salesRepId)
          .map((entry) => entry.type),
      ).toEqual(['salesrep.access.granted', 'salesrep.account.deleted']),
    );
  });

  it("tells the data-sync system what the document's webhooks.dataSyncChange declares: grant, revoke and deletion", async () => {
    const rep = await addRep();
    const deactivated = await service.call('POST', `${REPS_URL}/deactivate`, admin, {
      organizationSalesRepId: rep.organizationSalesRepId,
    });
    expect(deactivated.statusCode).toBe(200);
    const removed = await service.call('DELETE', REPS_URL, admin, {
      organizationSalesRepId: rep.organizationSalesRepId,
    });
    expect(removed.statusCode).toBe(200);
    await eventually(() =>
      expect(
        receiver.deliveries
          .filter((entry) => entry.data.salesRepId === rep.salesRepId)
          .map((entry) => entry.type),
      ).toEqual(['salesrep.access.granted', 'salesrep.access.revoked', 'salesrep.account.deleted']),
    );
    const check = deliveryCheck(service.app.swagger(), 'dataSyncChange');
    const posts = receiver.received.filter((post) => post.body.includes(rep.salesRepId));
    expect(posts.length).toBeGreaterThanOrEqual(3);
    for (const post of posts) expect(check(post), post.body).toEqual([]);
  });

  it('a rep removed and added again while its old account awaits deletion gets its own account under the new id', async () => {
    const email = `again-${Date.now()}@example.com`;
    const first = await addRep({ email });
    const accountIds = async () =>
      (
        await service.db
          .selectFrom('idp_account')
          .select('id')
          .where('email', '=', email)
          .orderBy('id')
          .execute()
      ).map((row) => row.id);
    await eventually(async () => expect(await accountIds()).toEqual([first.identityProviderUserId]));

    await effects.close();
    const removed = await service.call('DELETE', REPS_URL, admin, {
      organizationSalesRepId: first.organizationSalesRepId,
    });
    expect(removed.statusCode).toBe(200);
    const second = await addRep({ email });
    expect(second.identityProviderUserId).not.toBe(first.identityProviderUserId);
    // The old rep's effects wait in a retry backoff while the new rep is provisioned.
    await service.db
      .updateTable('effect')
      .set({ next_attempt_at: new Date(Date.now() + 60_000) })
      .where('sales_rep_id', '=', first.salesRepId)
      .where('status', '=', 'pending')
      .execute();
    startEffects();

    const newMembership = () =>
      service.db
        .selectFrom('idp_membership')
        .select('identity_organization_id')
        .where('account_id', '=', second.identityProviderUserId)
        .executeTakeFirst();
    await eventually(async () => expect(await newMembership()).toBeDefined());

    await service.db
      .updateTable('effect')
      .set({ next_attempt_at: new Date() })
      .where('sales_rep_id', '=', first.salesRepId)
      .where('status', '=', 'pending')
      .execute();
    await eventually(async () => expect(await accountIds()).toEqual([second.identityProviderUserId]));
    expect(await newMembership()).toEqual({
      identity_organization_id: organization.identity_organization_id,
    });
  });

  const effectOf = (salesRepId: string, kind: string) =>
    service.db
      .selectFrom('effect')
      .select(['id', 'status', 'attempts', 'last_error', 'lease_until', 'outcome'])
      .where('sales_rep_id', '=', salesRepId)
      .where('kind', '=', kind)
      .executeTakeFirstOrThrow();

  /** Puts an effect in a long retry backoff, as after failed attempts. */
  const holdInBackoff = (id: string) =>
    service.db
      .updateTable('effect')
      .set({ next_attempt_at: new Date(Date.now() + 3_600_000), attempts: 5 })
      .where('id', '=', id)
      .execute();

  it('a mail in backoff does not hold back the revoke of a later deactivation: order is per rep and channel', async () => {
    await effects.close();
    const rep = await addRep();
    const body = { organizationSalesRepId: rep.organizationSalesRepId };
    expect((await service.call('POST', `${REPS_URL}/deactivate`, admin, body)).statusCode).toBe(200);
    const welcome = await effectOf(rep.salesRepId, 'email.welcome');
    await holdInBackoff(welcome.id);
    startEffects();
    await eventually(async () => {
      expect((await effectOf(rep.salesRepId, 'identity.revokeMembership')).status).toBe('done');
      expect((await effectOf(rep.salesRepId, 'sync.revoke')).status).toBe('done');
    });
    expect((await effectOf(rep.salesRepId, 'identity.provision')).status).toBe('done');
    expect(
      receiver.deliveries
        .filter((entry) => entry.data.salesRepId === rep.salesRepId)
        .map((entry) => entry.type),
    ).toEqual(['salesrep.access.granted', 'salesrep.access.revoked']);
    expect((await effectOf(rep.salesRepId, 'email.welcome')).status).toBe('pending');
    const account = await service.db
      .selectFrom('idp_membership')
      .select('account_id')
      .where('account_id', '=', rep.identityProviderUserId)
      .executeTakeFirst();
    expect(account).toBeUndefined();

    await service.db
      .updateTable('effect')
      .set({ next_attempt_at: new Date() })
      .where('id', '=', welcome.id)
      .execute();
    await eventually(async () =>
      expect((await effectOf(rep.salesRepId, 'email.welcome')).status).toBe('done'),
    );
    expect(mailsTo(`rep${repCounter}@example.com`)).toHaveLength(1);
  });

  it("effects held back behind their rep's earlier one, more than a claim reads at once, hold back no other rep", async () => {
    await eventually(async () => expect(await openEffects()).toEqual([]));
    await effects.close();
    const held = await addRep();
    const welcome = await effectOf(held.salesRepId, 'email.welcome');
    await holdInBackoff(welcome.id);
    // 120 later mails of the same rep, due first of all and each held back behind the welcome mail in backoff:
    // more than one look at the queue reads (50).
    await sql`
      insert into effect (organization_id, ordering_key, channel, sales_rep_id, kind, payload, next_attempt_at)
      select organization_id, ordering_key, channel, sales_rep_id, kind, payload, now() - interval '1 minute'
      from effect, generate_series(1, 120)
      where id = ${welcome.id}`.execute(service.db);
    const heldMails = () =>
      service.db
        .selectFrom('effect')
        .where('sales_rep_id', '=', held.salesRepId)
        .where('kind', '=', 'email.welcome');
    try {
      const other = await addRep();
      const otherEmail = `rep${repCounter}@example.com`;
      startEffects();
      await eventually(async () => {
        expect(mailsTo(otherEmail)).toHaveLength(1);
        expect((await effectOf(other.salesRepId, 'identity.provision')).status).toBe('done');
      });
      expect(mailsTo(`rep${repCounter - 1}@example.com`)).toHaveLength(0);
      const pending = await heldMails()
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .where('status', '=', 'pending')
        .executeTakeFirstOrThrow();
      expect(Number(pending.count)).toBe(121);
    } finally {
      // The held mails never run (nor are leased): the later tests start from an empty queue.
      await service.db
        .deleteFrom('effect')
        .where('sales_rep_id', '=', held.salesRepId)
        .where('kind', '=', 'email.welcome')
        .execute();
    }
  });

  it('one slow call holds back no other rep: slots are claimed as they free up, never more than EFFECTS_CONCURRENCY at once', async () => {
    await eventually(async () => expect(await openEffects()).toEqual([]));
    receiver.state.delayFor.set('slow@example.com', 3000);
    const slow = await addRep({ email: 'slow@example.com' });
    await eventually(() => expect(receiver.state.inFlight).toBe(1));
    receiver.state.maxInFlight = 1;
    const fast: { salesRepId: string }[] = [];
    for (let i = 0; i < 5; i++) {
      receiver.state.delayFor.set(`fast${i}@example.com`, 150);
      fast.push(await addRep({ email: `fast${i}@example.com` }));
    }
    await eventually(() => {
      for (const rep of fast) {
        expect(receiver.deliveries.filter((entry) => entry.data.salesRepId === rep.salesRepId)).toHaveLength(
          1,
        );
      }
    }, 2500);
    // The slow call is still in flight while the others went by.
    expect(receiver.deliveries.filter((entry) => entry.data.salesRepId === slow.salesRepId)).toHaveLength(0);
    expect(receiver.state.maxInFlight).toBeGreaterThanOrEqual(2);
    expect(receiver.state.maxInFlight).toBeLessThanOrEqual(CONCURRENCY);
    await eventually(() =>
      expect(receiver.deliveries.filter((entry) => entry.data.salesRepId === slow.salesRepId)).toHaveLength(
        1,
      ),
    );
    receiver.state.delayFor.clear();
  });

  it('a send that succeeded is not sent again when marking it done fails: the lease is left to run out', async () => {
    await sql`
      create function refuse_marking_done() returns trigger language plpgsql as $$
      begin
        if new.status = 'done' and new.kind = 'sync.grant' and new.payload->>'email' like 'unmarkable%' then
          raise exception 'marking refused by the test';
        end if;
        return new;
      end $$`.execute(service.db);
    await sql`create trigger refuse_marking_done before update on effect
      for each row execute function refuse_marking_done()`.execute(service.db);
    try {
      const rep = await addRep({ email: 'unmarkable@example.com' });
      const deliveries = () =>
        receiver.deliveries.filter((entry) => entry.data.salesRepId === rep.salesRepId);
      await eventually(() => expect(deliveries()).toHaveLength(1));
      // Many retry delays (20–200 ms) go by: a failure counted here would have sent it again by now.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(deliveries()).toHaveLength(1);
      const grant = await effectOf(rep.salesRepId, 'sync.grant');
      expect(grant).toMatchObject({ status: 'pending', attempts: 1, last_error: null });
      expect(grant.lease_until?.getTime()).toBeGreaterThan(Date.now());
      expect(logLines.some((line) => line.includes('not marked done'))).toBe(true);

      // Once the lease runs out the effect is claimed again, with the same webhook-id for the receiver to drop.
      await sql`drop trigger refuse_marking_done on effect`.execute(service.db);
      await service.db
        .updateTable('effect')
        .set({ lease_until: new Date(Date.now() - 1000) })
        .where('id', '=', grant.id)
        .execute();
      await eventually(async () =>
        expect((await effectOf(rep.salesRepId, 'sync.grant')).status).toBe('done'),
      );
      expect(deliveries().map((entry) => entry.id)).toEqual([String(grant.id), String(grant.id)]);
    } finally {
      await sql`drop trigger if exists refuse_marking_done on effect`.execute(service.db);
      await sql`drop function refuse_marking_done()`.execute(service.db);
    }
  });

  it('a failure quoting the rep is stored and logged with emails and phone numbers redacted', async () => {
    const email = 'quoted.rep@example.com';
    const rep = await addRep({ email });
    receiver.state.failFor.add(rep.salesRepId);
    const grant = await eventually(async () => {
      const row = await effectOf(rep.salesRepId, 'sync.grant');
      expect(row.last_error).toContain('503');
      return row;
    });
    receiver.state.failFor.delete(rep.salesRepId);
    expect(grant.last_error).toContain('[email]');
    expect(grant.last_error).toContain('[phone]');
    expect(grant.last_error).not.toContain(email);
    expect(grant.last_error).not.toContain('010-2030');
    const failureLines = logLines.filter((line) => line.includes(String(grant.id)));
    expect(failureLines.length).toBeGreaterThan(0);
    expect(failureLines.join('\n')).toContain('[email]');
    expect(logLines.join('\n')).not.toContain(email);
    await eventually(async () => expect((await effectOf(rep.salesRepId, 'sync.grant')).status).toBe('done'));
  });

  it("an effect out of attempts goes dead without holding up the rep's later effects; the admin sees it and retries it", async () => {
    const rep = await addRep();
    receiver.state.failFor.add(rep.salesRepId);
    const dead = await eventually(async () => {
      const response = await service.call('GET', `${EFFECTS_URL}?status=dead`, admin);
      expect(response.statusCode).toBe(200);
      const found = response
        .json()
        .filter((effect: { salesRepId: string }) => effect.salesRepId === rep.salesRepId);
      expect(found).toHaveLength(1);
      return found[0];
    });
    expect(dead).toMatchObject({ kind: 'sync.grant', status: 'dead', attempts: 12 });
    expect(dead.lastError).toContain('503');

    // Another tenant neither sees nor retries it.
    const other = await service.createOrganization('Other Org');
    const otherAdmin = await service.token(other, 'admin-2', ['Admin']);
    expect((await service.call('GET', `${EFFECTS_URL}?status=dead`, otherAdmin)).json()).toEqual([]);
    const foreign = await service.call('POST', `${EFFECTS_URL}/retry`, otherAdmin, {
      effectId: dead.effectId,
    });
    expect(foreign.statusCode).toBe(404);
    const repToken = await service.token(organization, rep.identityProviderUserId, ['SalesRep']);
    expect((await service.call('GET', `${EFFECTS_URL}?status=dead`, repToken)).statusCode).toBe(403);

    receiver.state.failFor.delete(rep.salesRepId);
    const retry = await service.call('POST', `${EFFECTS_URL}/retry`, admin, { effectId: dead.effectId });
    expect(retry.statusCode).toBe(200);
    expect(retry.json()).toEqual({ effectId: dead.effectId, status: 'pending' });
    await eventually(() =>
      expect(receiver.deliveries.filter((entry) => entry.data.salesRepId === rep.salesRepId)).toHaveLength(1),
    );
    const again = await service.call('POST', `${EFFECTS_URL}/retry`, admin, { effectId: dead.effectId });
    expect(again.statusCode).toBe(409);
  });

  it('a dead grant retried after a later deactivation is skipped as superseded, never granting again', async () => {
    const rep = await addRep();
    receiver.state.failFor.add(`salesrep.access.granted:${rep.salesRepId}`);
    const grant = await eventually(async () => {
      const row = await service.db
        .selectFrom('effect')
        .select(['id', 'status'])
        .where('sales_rep_id', '=', rep.salesRepId)
        .where('kind', '=', 'sync.grant')
        .executeTakeFirstOrThrow();
      expect(row.status).toBe('dead');
      return row;
    });
    const body = { organizationSalesRepId: rep.organizationSalesRepId };
    expect((await service.call('POST', `${REPS_URL}/deactivate`, admin, body)).statusCode).toBe(200);
    await eventually(() =>
      expect(
        receiver.deliveries
          .filter((entry) => entry.data.salesRepId === rep.salesRepId)
          .map((entry) => entry.type),
      ).toEqual(['salesrep.access.revoked']),
    );
    receiver.state.failFor.clear();
    const retry = await service.call('POST', `${EFFECTS_URL}/retry`, admin, { effectId: String(grant.id) });
    expect(retry.statusCode).toBe(200);
    const done = await eventually(async () => {
      const row = await service.db
        .selectFrom('effect')
        .select(['status', 'outcome'])
        .where('id', '=', grant.id)
        .executeTakeFirstOrThrow();
      expect(row.status).toBe('done');
      return row;
    });
    expect(done.outcome).toBe('skipped: superseded by a later change');
    expect(receiver.deliveries.filter((entry) => entry.data.salesRepId === rep.salesRepId)).toHaveLength(1);
  });

  it('stopping the worker lets the effect in flight finish: its mail is sent and the effect is done', async () => {
    smtp.delayMs = 500;
    const rep = await addRep();
    await eventually(async () => {
      const leased = await service.db
        .selectFrom('effect')
        .select('id')
        .where('sales_rep_id', '=', rep.salesRepId)
        .where('kind', '=', 'email.welcome')
        .where('lease_until', 'is not', null)
        .execute();
      expect(leased).toHaveLength(1);
    });
    await effects.close();
    smtp.delayMs = 0;
    expect(mailsTo(`rep${repCounter}@example.com`)).toHaveLength(1);
    const welcome = await service.db
      .selectFrom('effect')
      .select('status')
      .where('sales_rep_id', '=', rep.salesRepId)
      .where('kind', '=', 'email.welcome')
      .executeTakeFirstOrThrow();
    expect(welcome.status).toBe('done');
    startEffects();
    await eventually(async () => expect(await openEffects()).toEqual([]));
  });
});
