import type { CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { createOrganization } from '../../src/organizations/service.js';
import { databaseKinds } from '../support/databases.js';
import { REPS_URL } from '../support/fixtures.js';
import { startTestService, type TestService } from '../support/service.js';
import { expectUnauthorized, localIssuerKey, newKeyPair, signToken, standardClaims } from './support.js';

/**
 * The service remembers verified tokens (until their expiry) and organizations found (for a short while), so that
 * a client's repeated requests skip the signature check and the organization lookup. These tests hold what must
 * not change because of it.
 */
describe.each(databaseKinds)('remembered tokens and organizations on %s', (kind) => {
  let service: TestService;
  let organization: Organization;
  let key: CryptoKey;
  let kid: string;

  beforeAll(async () => {
    // No clock tolerance: a token is refused the second its expiry passes.
    service = await startTestService(kind, { AUTH_CLOCK_TOLERANCE_SECONDS: '0' });
    organization = await service.createOrganization('Remembering Supplies');
    ({ key, kid } = await localIssuerKey(service.config));
  });
  afterAll(() => service.close());

  const list = (token: string) => service.call('GET', REPS_URL, token);
  const adminClaims = (expiresAt: number, userId = 'remembered-admin') =>
    standardClaims(
      service.config,
      { userId, organization: organization.identity_organization_id, roles: ['Admin'] },
      { exp: expiresAt },
    );

  it('refuses a remembered token once its expiry has passed (401), though it was accepted just before', async () => {
    // At least two seconds ahead: both requests must be answered before it, on a loaded machine too.
    const expiresAt = Math.floor(Date.now() / 1000) + 3;
    const token = await signToken(key, { alg: 'ES256', kid, typ: 'JWT' }, adminClaims(expiresAt));
    expect((await list(token)).statusCode).toBe(200);
    expect((await list(token)).statusCode).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, expiresAt * 1000 - Date.now() + 50));
    const late = await list(token);
    expectUnauthorized(late);
    expect(late.json().detail).toBe('The token has expired.');
  });

  it('never answers a token from another token: the same claims under a forged signature are refused', async () => {
    const claims = adminClaims(Math.floor(Date.now() / 1000) + 600);
    const genuine = await signToken(key, { alg: 'ES256', kid, typ: 'JWT' }, claims);
    expect((await list(genuine)).statusCode).toBe(200);
    // Same header and payload, signed by a key that is not the issuer's: only the signature differs.
    const { privateKey } = await newKeyPair(kid);
    const forged = await signToken(privateKey, { alg: 'ES256', kid, typ: 'JWT' }, claims);
    expect(forged.split('.').slice(0, 2)).toEqual(genuine.split('.').slice(0, 2));
    expectUnauthorized(await list(forged));
    const [header, payload] = genuine.split('.');
    expectUnauthorized(await list(`${header}.${payload}.${'A'.repeat(86)}`));
  });

  it("gives each token its own caller: a SalesRep token after an Admin one of the same user keeps the SalesRep's rights", async () => {
    const admin = await service.token(organization, 'two-tokens-user', ['Admin']);
    const salesRep = await service.token(organization, 'two-tokens-user', ['SalesRep']);
    expect((await list(admin)).statusCode).toBe(200);
    expect((await list(salesRep)).statusCode).toBe(403);
    expect((await list(admin)).statusCode).toBe(200);
  });

  it('finds an organization registered after a request failed to find it (no memory of absence)', async () => {
    const identityOrganizationId = `org_later_${Date.now()}`;
    const token = await service.token(identityOrganizationId, 'later-admin', ['Admin']);
    const before = await list(token);
    expect(before.statusCode).toBe(403);
    expect(before.json().detail).toBe("The token's organization is not known to this service.");
    await createOrganization(service.db, { name: 'Registered Later', identityOrganizationId });
    expect((await list(token)).statusCode).toBe(200);
  });

  it("answers each organization's token with that organization's reps, whichever was remembered first", async () => {
    const other = await service.createOrganization('Other Remembered Supplies');
    const [adminHere, adminThere] = await Promise.all([
      service.token(organization, 'here-admin', ['Admin']),
      service.token(other, 'there-admin', ['Admin']),
    ]);
    const added = await service.call('PUT', REPS_URL, adminThere, {
      firstName: 'Only',
      lastName: 'There',
      email: `only.there.${Date.now()}@example.com`,
      repNumber: 'THERE-1',
    });
    expect(added.statusCode).toBe(200);
    for (let round = 0; round < 2; round++) {
      const here = await list(adminHere);
      const there = await list(adminThere);
      expect(here.json()).toEqual([]);
      expect(there.json().map((rep: { organizationId: string }) => rep.organizationId)).toEqual([other.id]);
      expect(there.headers['x-total-count']).toBe('1');
    }
  });
});
