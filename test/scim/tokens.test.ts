// SCIM tokens: an Admin creates them (shown once, kept as a hash), lists them without secrets, revokes them at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../effects/support/wait.js';
import { databaseKinds } from '../support/databases.js';
import { expectProblem } from '../support/fixtures.js';
import { startTestService, type TestService } from '../support/service.js';
import { expectScimError, oktaUser, scim, scimTenant, TOKENS_URL } from './support.js';

describe.each(databaseKinds)('SCIM tokens on %s', (kind) => {
  let service: TestService;

  beforeAll(async () => {
    service = await startTestService(kind);
  });
  afterAll(() => service.close());

  it('shows the token once, at creation, and keeps only its SHA-256', async () => {
    const { organization, admin, tokenId, token } = await scimTenant(service);
    expect(token).toMatch(/^scim_[A-Za-z0-9_-]{43}$/);
    const listed = await service.call('GET', TOKENS_URL, admin);
    expect(listed.statusCode).toBe(200);
    expect(listed.json()).toEqual([
      {
        id: tokenId,
        description: 'Okta production',
        createdAt: expect.any(String),
        lastUsedAt: null,
        lastRequest: null,
      },
    ]);
    expect(listed.body).not.toContain(token);
    const stored = await service.db
      .selectFrom('scim_token')
      .selectAll()
      .where('organization_id', '=', organization.id)
      .execute();
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(stored)).not.toContain(token.slice(5));
  });

  it('keeps the last request of each token and its outcome, without the query values that hold an email', async () => {
    const { admin, tokenId, token } = await scimTenant(service);
    const other = await service.call('POST', TOKENS_URL, admin, { description: 'Entra' });
    const otherId = (other.json() as { id: string }).id;
    const lastOf = async (id: string) => {
      const listed = (await service.call('GET', TOKENS_URL, admin)).json() as {
        id: string;
        lastUsedAt: string | null;
        lastRequest: Record<string, unknown> | null;
      }[];
      return listed.find((entry) => entry.id === id);
    };
    const before = Date.now();
    const filter = encodeURIComponent('userName eq "secret.person@acme.example"');
    expect((await scim(service, 'GET', `/Users?filter=${filter}&count=1`, token)).statusCode).toBe(200);
    await eventually(async () => {
      const entry = await lastOf(tokenId);
      expect(entry?.lastRequest).toEqual({
        at: entry?.lastUsedAt,
        method: 'GET',
        path: '/Users?filter&count',
        status: 200,
      });
      expect(Date.parse(entry?.lastUsedAt ?? '')).toBeGreaterThanOrEqual(before - 1000);
    });
    // Only the last request is kept: a refused one replaces it, with its scimType and detail.
    const created = await scim(service, 'POST', '/Users', token, oktaUser('kept@acme.example', 'R-1'));
    expect(created.statusCode).toBe(201);
    expectScimError(
      await scim(service, 'POST', '/Users', token, oktaUser('dup@acme.example', 'R-1')),
      409,
      'uniqueness',
    );
    await eventually(async () => {
      expect((await lastOf(tokenId))?.lastRequest).toEqual({
        at: expect.any(String),
        method: 'POST',
        path: '/Users',
        status: 409,
        scimType: 'uniqueness',
        detail: 'That employeeNumber is already used in this organization.',
      });
    });
    const id = (created.json() as { id: string }).id;
    expectScimError(await scim(service, 'GET', `/Users/${id}x`, token), 404);
    await eventually(async () => {
      expect((await lastOf(tokenId))?.lastRequest).toMatchObject({
        method: 'GET',
        path: `/Users/${id}x`,
        status: 404,
        detail: 'No User with that id in this organization.',
      });
    });
    // Each token its own; the unused one has none, and the body's email is never kept.
    expect(await lastOf(otherId)).toMatchObject({ lastUsedAt: null, lastRequest: null });
    const listed = (await service.call('GET', TOKENS_URL, admin)).body;
    expect(listed).not.toContain('secret.person');
    expect(listed).not.toContain('dup@acme.example');
  });

  it('records nothing for a request without a valid token', async () => {
    const { admin, tokenId, token } = await scimTenant(service);
    expectScimError(await scim(service, 'GET', '/Users', `${token.slice(0, -1)}x`), 401);
    expect((await scim(service, 'GET', '/ServiceProviderConfig', token)).statusCode).toBe(200);
    await eventually(async () => {
      const [entry] = (await service.call('GET', TOKENS_URL, admin)).json() as {
        id: string;
        lastRequest: { path: string; status: number } | null;
      }[];
      expect(entry).toMatchObject({
        id: tokenId,
        lastRequest: { path: '/ServiceProviderConfig', status: 200 },
      });
    });
  });

  it('refuses a revoked token on the very next request', async () => {
    const { admin, tokenId, token } = await scimTenant(service);
    expect((await scim(service, 'GET', '/Users', token)).statusCode).toBe(200);
    const revoked = await service.call('DELETE', `${TOKENS_URL}/${tokenId}`, admin);
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json()).toEqual({ success: true });
    const refused = await scim(service, 'GET', '/Users', token);
    expectScimError(refused, 401);
    expect(refused.headers['www-authenticate']).toBe('Bearer');
    expect((await service.call('GET', TOKENS_URL, admin)).json()).toEqual([]);
  });

  it('records the creation and the revocation in the audit log, the admin as actor', async () => {
    const { organization, admin, tokenId } = await scimTenant(service);
    await service.call('DELETE', `${TOKENS_URL}/${tokenId}`, admin);
    const events = await service.call('GET', '/api/organizations/events', admin);
    expect(events.json()).toEqual([
      expect.objectContaining({
        action: 'scim_token.revoked',
        actor: { type: 'user', id: `admin-${organization.id}` },
        targets: [{ type: 'scim_token', id: tokenId }],
      }),
      expect.objectContaining({
        action: 'scim_token.created',
        targets: [{ type: 'scim_token', id: tokenId }],
        changes: { description: { from: null, to: 'Okta production' } },
      }),
    ]);
  });

  it("answers 404 for another organization's token id, and revokes nothing", async () => {
    const first = await scimTenant(service, 'First');
    const second = await scimTenant(service, 'Second');
    expectProblem(await service.call('DELETE', `${TOKENS_URL}/${first.tokenId}`, second.admin), 404);
    expect((await scim(service, 'GET', '/Users', first.token)).statusCode).toBe(200);
  });

  it('is for Admins only: a SalesRep token gets 403', async () => {
    const { organization } = await scimTenant(service);
    const rep = await service.token(organization, 'rep-user', ['SalesRep']);
    expectProblem(await service.call('POST', TOKENS_URL, rep, {}), 403);
    expectProblem(await service.call('GET', TOKENS_URL, rep), 403);
  });

  it('is no API token, and an API token is no SCIM token: 401 both ways', async () => {
    const { admin, token } = await scimTenant(service);
    expectProblem(await service.call('GET', '/api/organizations/salesreps', token), 401);
    expectScimError(await scim(service, 'GET', '/Users', admin), 401);
    expectScimError(await scim(service, 'GET', '/Users', `${token.slice(0, -1)}x`), 401);
    const anonymous = await service.app.inject({ method: 'GET', url: '/scim/v2/Users' });
    expectScimError(anonymous, 401);
  });

  it('refuses an unknown field and an over-long description with 400', async () => {
    const { admin } = await scimTenant(service);
    expectProblem(await service.call('POST', TOKENS_URL, admin, { scope: 'all' }), 400);
    expectProblem(await service.call('POST', TOKENS_URL, admin, { description: 'x'.repeat(201) }), 400);
    expectProblem(await service.call('POST', TOKENS_URL, admin, { description: 'a\u0000b' }), 400);
  });
});

describe.each(databaseKinds)("a SCIM token's last request past the rate limit, on %s", (kind) => {
  let service: TestService;

  beforeAll(async () => {
    service = await startTestService(kind, { RATE_LIMIT_MAX: '2' });
  });
  afterAll(() => service.close());

  it('keeps the last request the service answered, not the 429s past the limit', async () => {
    const { tokenId, token } = await scimTenant(service);
    const lastPath = async () =>
      (
        await service.db
          .selectFrom('scim_token')
          .select(['last_path', 'last_status'])
          .where('id', '=', tokenId)
          .executeTakeFirstOrThrow()
      ).last_path;
    expect((await scim(service, 'GET', '/Users', token)).statusCode).toBe(200);
    expect((await scim(service, 'GET', '/Schemas', token)).statusCode).toBe(200);
    await eventually(async () => expect(await lastPath()).toBe('/Schemas'));
    for (let index = 0; index < 3; index++) {
      expectScimError(await scim(service, 'GET', '/ResourceTypes', token), 429);
    }
    // Given the time a write would take, the row still names the last request answered.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await lastPath()).toBe('/Schemas');
  });
});
