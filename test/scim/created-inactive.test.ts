// POST /Users with `active: false` is one change: the rep is created inactive, with the events and effects of that
// one change, and never granted access or welcomed in between.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { databaseKinds } from '../support/databases.js';
import { startTestService, type TestService } from '../support/service.js';
import { oktaUser, PATCH_OP, scim, scimTenant } from './support.js';

interface AuditEvent {
  action: string;
  actor: { type: string; id: string };
  targets: { type: string; id: string }[];
  changes: Record<string, { from: unknown; to: unknown }>;
}

describe.each(databaseKinds)('a SCIM User created inactive, on %s', (kind) => {
  let service: TestService;

  beforeAll(async () => {
    service = await startTestService(kind);
  });
  afterAll(() => service.close());

  const effectKinds = async (organization: Organization) =>
    (
      await service.db
        .selectFrom('effect')
        .select('kind')
        .where('organization_id', '=', organization.id)
        .where('kind', '<>', 'webhook.deliver')
        .orderBy('id')
        .execute()
    ).map((row) => row.kind);

  const eventsOf = async (admin: string) =>
    (await service.call('GET', '/api/organizations/events', admin)).json() as AuditEvent[];

  it('is one change: one sales_rep.created event saying inactive, and only the identity provider user made', async () => {
    const { organization, admin, tokenId, token } = await scimTenant(service);
    const created = await scim(service, 'POST', '/Users', token, {
      ...oktaUser('dormant@acme.example', 'IN-1'),
      active: false,
    });
    expect(created.statusCode, created.body).toBe(201);
    const user = created.json() as { id: string; active: boolean };
    expect(user.active).toBe(false);

    const repEvents = (await eventsOf(admin)).filter((event) =>
      event.targets.some((target) => target.id === user.id),
    );
    expect(repEvents).toEqual([
      expect.objectContaining({
        action: 'sales_rep.created',
        actor: { type: 'scim', id: tokenId },
        changes: expect.objectContaining({ active: { from: null, to: false } }),
      }),
    ]);
    // No membership, welcome mail or sync grant that a deactivation would then have to take back.
    expect(await effectKinds(organization)).toEqual(['identity.provision']);

    const listed = await service.call('GET', '/api/organizations/salesreps?active=false', admin);
    expect(listed.statusCode, listed.body).toBe(200);
    expect(JSON.stringify(listed.json())).toContain('dormant@acme.example');
  });

  it('activating it later grants access and invites, as the API activation does', async () => {
    const { organization, token } = await scimTenant(service);
    const created = await scim(service, 'POST', '/Users', token, {
      ...oktaUser('later@acme.example', 'IN-2'),
      active: 'False',
    });
    expect(created.statusCode, created.body).toBe(201);
    const { id } = created.json() as { id: string };
    const activated = await scim(service, 'PATCH', `/Users/${id}`, token, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', value: { active: true } }],
    });
    expect(activated.statusCode, activated.body).toBe(200);
    expect(await effectKinds(organization)).toEqual([
      'identity.provision',
      'identity.grantMembership',
      'email.reinvitation',
      'sync.grant',
    ]);
  });
});
