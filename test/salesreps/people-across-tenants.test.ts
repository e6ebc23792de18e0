import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { Organization } from '../../src/db/schema.js';
import { createEffects, type Effects } from '../../src/effects/runtime.js';
import { startSmtpServer, type TestSmtpServer } from '../effects/support/smtp.js';
import { eventually } from '../effects/support/wait.js';
import { databaseKinds } from '../support/databases.js';
import { type AddedRep, addRep, MY_ORGANIZATIONS_URL, REPS_URL } from '../support/fixtures.js';
import { startReceiver, TEST_WEBHOOK_SECRET } from '../support/receiver.js';
import { startTestService, type TestService } from '../support/service.js';

/**
 * A person shared by two organizations shares only its email and identity provider user: what one organization
 * says of it (names, phone, its spelling of the email) never reaches the other (docs/api.md, "Tenants and people").
 * Organization B, the attacker, pre-registers an email with a lure; organization A then adds the same person.
 */
describe.each(databaseKinds)('people shared by tenants on %s', (kind) => {
  let service: TestService;
  let smtp: TestSmtpServer;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let effects: Effects;
  let logHost: FastifyInstance;
  let dataDir: string;
  let victim: Organization;
  let attacker: Organization;
  let victimAdmin: string;
  let attackerAdmin: string;
  let sequence = 0;

  /** B's words for the person: every one of them must stay out of what A sees. */
  const lure = {
    firstName: 'URGENT: wire payroll',
    lastName: 'to IBAN DE00 LURE',
    phoneNumber: '+1 900 555 0666',
  };
  const LURE_TEXT = ['URGENT', 'payroll', 'IBAN', 'LURE', '900 555 0666'];
  const own = { firstName: 'Ann', lastName: 'Lee', phoneNumber: '555-0100' };

  const expectNoLure = (text: string) => {
    for (const fragment of LURE_TEXT) expect(text).not.toContain(fragment);
  };
  const mailsTo = (address: string): ParsedMail[] =>
    smtp.received.filter((mail) => mail.to && 'text' in mail.to && mail.to.text === address);
  const nextEmail = () => {
    sequence += 1;
    return `person${sequence}.${Date.now().toString(36)}@corp.example`;
  };
  /** Another spelling of the same address; the local part only, as mail transports lower-case the domain. */
  const shout = (email: string) => {
    const [local, domain] = email.split('@');
    return `${local?.toUpperCase()}@${domain}`;
  };
  const listOf = async (admin: string) => {
    const response = await service.call('GET', `${REPS_URL}?pageSize=100`, admin);
    expect(response.statusCode).toBe(200);
    return response;
  };

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'salesreps-people-'));
    service = await startTestService(kind);
    smtp = await startSmtpServer();
    receiver = await startReceiver({ secret: TEST_WEBHOOK_SECRET, path: '/sync' });
    victim = await service.createOrganization('Victim Supply');
    attacker = await service.createOrganization('Attacker Trading');
    victimAdmin = await service.token(victim, 'admin-victim', ['Admin']);
    attackerAdmin = await service.token(attacker, 'admin-attacker', ['Admin']);
    logHost = Fastify({ logger: false });
    const config = loadConfig({
      DATA_DIR: dataDir,
      MAIL: 'smtp',
      SMTP_URL: smtp.url,
      SYNC: 'webhook',
      SYNC_WEBHOOK_URL: receiver.url,
      SYNC_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
      EFFECTS_POLL_MS: '50',
      EFFECTS_RETRY_BASE_MS: '20',
      EFFECTS_RETRY_MAX_MS: '200',
    });
    effects = createEffects(config, service.db);
    effects.start(logHost.log);
  });
  afterAll(async () => {
    await effects.close();
    await smtp.close();
    await receiver.close();
    await logHost.close();
    await service.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("keeps B's pre-registered text out of A's PUT response, list, my-organizations entry, welcome mail and sync", async () => {
    const email = nextEmail();
    const planted = await addRep(service, attackerAdmin, {
      ...lure,
      email: shout(email),
      repNumber: 'B-1',
    });

    const put = await service.call('PUT', REPS_URL, victimAdmin, { ...own, email, repNumber: 'A-1' });
    expect(put.statusCode).toBe(200);
    expectNoLure(put.body);
    const added = put.json() as AddedRep;
    // The same person (same ids), described in A's own words and spelling.
    expect(added).toMatchObject({ ...own, email, salesRepId: planted.salesRepId, organizationId: victim.id });
    expect(added.identityProviderUserId).toBe(planted.identityProviderUserId);

    const list = await listOf(victimAdmin);
    expectNoLure(list.body);
    expect(list.json()).toEqual([
      expect.objectContaining({ ...own, email, organizationSalesRepId: added.organizationSalesRepId }),
    ]);

    // The person sees each organization's own words for it, each with its own organization.
    const repToken = await service.token(victim, added.identityProviderUserId, ['SalesRep']);
    const mine = await service.call('GET', MY_ORGANIZATIONS_URL, repToken);
    expect(mine.statusCode).toBe(200);
    const entries = (mine.json() as { salesRepOrganizations: Record<string, unknown>[] })
      .salesRepOrganizations;
    const victimEntry = entries.find((entry) => entry.organizationId === victim.id);
    expect(victimEntry).toMatchObject({
      ...own,
      email,
      organizationSalesRepId: added.organizationSalesRepId,
    });
    expectNoLure(JSON.stringify(victimEntry));
    expect(entries.find((entry) => entry.organizationId === attacker.id)).toMatchObject({
      ...lure,
      email: shout(email),
    });

    // A's welcome mail, through a real SMTP server, goes to A's spelling and greets in A's words.
    const [welcome] = await eventually(() => {
      const found = mailsTo(email).filter((mail) => mail.subject?.includes('Victim Supply'));
      expect(found).toHaveLength(1);
      return found;
    });
    expect(welcome?.text).toContain('Hello Ann Lee,');
    expectNoLure(`${welcome?.subject}\n${welcome?.text}\n${welcome?.html}`);
    // B's own mail went to B's spelling: nothing of it was sent to A's address under A's name.
    await eventually(() => expect(mailsTo(shout(email))).toHaveLength(1));

    const victimSync = await eventually(() => {
      const found = receiver.deliveries.filter((entry) => entry.data.organizationId === victim.id);
      expect(found).toHaveLength(1);
      return found;
    });
    expect(victimSync[0]?.data).toMatchObject({ salesRepId: added.salesRepId, email });
    expectNoLure(JSON.stringify(victimSync));

    // What A's change recorded for the identity provider is A's too.
    const recorded = await service.db
      .selectFrom('effect')
      .select(['kind', 'payload'])
      .where('organization_id', '=', victim.id)
      .where('sales_rep_id', '=', added.salesRepId)
      .execute();
    expect(recorded.map((effect) => effect.kind).sort()).toEqual([
      'email.welcome',
      'identity.provision',
      'sync.grant',
    ]);
    expect(recorded.find((effect) => effect.kind === 'identity.provision')?.payload).toMatchObject({
      ...{ firstName: own.firstName, lastName: own.lastName },
      email,
      identityOrganizationId: victim.identity_organization_id,
    });
    expectNoLure(JSON.stringify(recorded));

    // A's later changes answer with A's words too.
    const patched = await service.call('PATCH', REPS_URL, victimAdmin, {
      organizationSalesRepId: added.organizationSalesRepId,
      repNumber: 'A-1b',
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ firstName: 'Ann', lastName: 'Lee', email });
    expectNoLure(patched.body);
  });

  it("lets B read nothing of what A stored: B's PUT of A's person answers, lists and mails B's own words only", async () => {
    const email = nextEmail();
    const secret = { firstName: 'Confidential', lastName: 'Keyaccount', phoneNumber: '+44 20 7946 0018' };
    const SECRET_TEXT = ['Confidential', 'Keyaccount', '7946'];
    const stored = await addRep(service, victimAdmin, { ...secret, email, repNumber: 'A-2' });

    const probe = { firstName: 'Probe', lastName: 'Only', email: shout(email), repNumber: 'B-2' };
    const put = await service.call('PUT', REPS_URL, attackerAdmin, probe);
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({
      firstName: 'Probe',
      lastName: 'Only',
      email: shout(email),
      phoneNumber: null,
      salesRepId: stored.salesRepId,
    });
    const list = await listOf(attackerAdmin);
    const seen = [put.body, list.body];
    await eventually(() => {
      const found = mailsTo(shout(email));
      expect(found).toHaveLength(1);
      seen.push(`${found[0]?.subject}\n${found[0]?.text}\n${found[0]?.html}`);
    });
    for (const text of seen) {
      for (const fragment of [...SECRET_TEXT, email]) expect(text).not.toContain(fragment);
    }

    // A's own view is unchanged by B's PUT.
    expect((await listOf(victimAdmin)).json()).toContainEqual(
      expect.objectContaining({ ...secret, email, organizationSalesRepId: stored.organizationSalesRepId }),
    );
  });
});
