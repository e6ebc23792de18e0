import type { CryptoKey, JWK, JWTPayload } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { databaseKinds } from '../support/databases.js';
import { REPS_URL } from '../support/fixtures.js';
import { startTestService, type TestService } from '../support/service.js';
import { expectUnauthorized, newKeyPair, signToken, startJwksServer } from './support.js';

const ISSUER = 'https://idp.example.test';
const AUDIENCE = 'https://api.example.test';

/** An identity provider with its own claim names, as AUTH_CLAIM_* lets an operator map them. */
const CLAIM_NAMES = {
  AUTH_CLAIM_USER_ID: 'uid',
  AUTH_CLAIM_USER_ID_FALLBACK: 'email',
  AUTH_CLAIM_ORGANIZATION: 'tenant',
  AUTH_CLAIM_ROLES: 'permissions',
};

describe.each(databaseKinds)('AUTH_JWKS_URL mode with custom claim names on %s', (kind) => {
  let service: TestService;
  let jwksServer: Awaited<ReturnType<typeof startJwksServer>>;
  let providerKey: CryptoKey;
  let organization: Organization;

  beforeAll(async () => {
    const provider = await newKeyPair('provider-key-1');
    providerKey = provider.privateKey;
    jwksServer = await startJwksServer([provider.publicJwk as JWK]);
    service = await startTestService(kind, {
      AUTH_JWKS_URL: jwksServer.url,
      AUTH_ISSUER: ISSUER,
      AUTH_AUDIENCE: AUDIENCE,
      ...CLAIM_NAMES,
    });
    organization = await service.createOrganization('Remote Keys Ltd');
  });
  afterAll(async () => {
    await service.close();
    await jwksServer.close();
  });
  afterEach(() => {
    expect(service.contract.takeUndeclared()).toEqual([]);
  });

  const providerToken = (claims: JWTPayload, kid = 'provider-key-1') => {
    const now = Math.floor(Date.now() / 1000);
    return signToken(
      providerKey,
      { alg: 'ES256', kid, typ: 'JWT' },
      { iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 300, ...claims },
    );
  };
  const list = async (token: string) =>
    service.app.inject({ method: 'GET', url: REPS_URL, headers: { authorization: `Bearer ${token}` } });

  it('accepts tokens signed by a key of the JWKS, reading the configured claim names', async () => {
    const token = await providerToken({
      uid: 'kp_admin',
      tenant: organization.identity_organization_id,
      permissions: [{ id: 'r1', key: 'Admin', name: 'Admin' }],
    });
    const response = await list(token);
    expect(response.statusCode, response.body).toBe(200);
    expect(jwksServer.requests()).toBeGreaterThan(0);
  });

  it('falls back to the configured fallback claim for the user', async () => {
    const token = await providerToken({
      email: 'admin@example.com',
      tenant: organization.identity_organization_id,
      permissions: ['Admin'],
    });
    expect((await list(token)).statusCode).toBe(200);
  });

  it('no longer reads the default claim names once others are configured', async () => {
    const token = await providerToken({
      UserId: 'kp_admin',
      sub: 'kp_admin',
      org_code: organization.identity_organization_id,
      roles: ['Admin'],
    });
    expectUnauthorized(await list(token));
    const withoutRoles = await providerToken({
      uid: 'kp_admin',
      tenant: organization.identity_organization_id,
      roles: ['Admin'],
    });
    expect((await list(withoutRoles)).statusCode).toBe(403);
  });

  it("refuses the local issuer's tokens, though their claims are right, and serves no local JWKS", async () => {
    const local = await service.token(organization, 'kp_admin', ['Admin']);
    expectUnauthorized(await list(local));
    const jwks = await service.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    expect(jwks.statusCode).toBe(404);
  });

  it('refuses a key id the JWKS does not hold, and a token of another issuer', async () => {
    const stranger = await newKeyPair('provider-key-1');
    const forged = await signToken(
      stranger.privateKey,
      { alg: 'ES256', kid: 'provider-key-1', typ: 'JWT' },
      {
        iss: ISSUER,
        aud: AUDIENCE,
        exp: Math.floor(Date.now() / 1000) + 300,
        uid: 'x',
        tenant: organization.identity_organization_id,
        permissions: ['Admin'],
      },
    );
    expectUnauthorized(await list(forged));
    const claims = { uid: 'x', tenant: organization.identity_organization_id, permissions: ['Admin'] };
    expectUnauthorized(await list(await providerToken(claims, 'unknown-kid')));
    expectUnauthorized(await list(await providerToken({ ...claims, iss: 'salesreps-local' })));
  });
});
