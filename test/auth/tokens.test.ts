import type { CryptoKey, JWTPayload } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import type { Organization } from '../../src/db/schema.js';
import { databaseKinds } from '../support/databases.js';
import { MY_ORGANIZATIONS_URL, REPS_URL } from '../support/fixtures.js';
import { startTestService, type TestService } from '../support/service.js';
import {
  expectUnauthorized,
  localIssuerKey,
  newKeyPair,
  signToken,
  standardClaims,
  startJwksServer,
  tamper,
  unsignedToken,
} from './support.js';

describe('clock tolerance setting', () => {
  it('defaults to 30 seconds and refuses more than 30 (CONTRACT: at most 30 s)', () => {
    expect(loadConfig({}).auth.clockToleranceSeconds).toBe(30);
    expect(loadConfig({ AUTH_CLOCK_TOLERANCE_SECONDS: '5' }).auth.clockToleranceSeconds).toBe(5);
    expect(() => loadConfig({ AUTH_CLOCK_TOLERANCE_SECONDS: '31' })).toThrow(
      /AUTH_CLOCK_TOLERANCE_SECONDS must be an integer from 0 to 30/,
    );
    expect(() => loadConfig({ AUTH_CLOCK_TOLERANCE_SECONDS: '31' })).toThrow(ConfigError);
  });
});

describe.each(databaseKinds)('bearer tokens on %s', (kind) => {
  let service: TestService;
  let organization: Organization;
  let key: CryptoKey;
  let kid: string;

  beforeAll(async () => {
    service = await startTestService(kind);
    organization = await service.createOrganization('Token Supplies');
    ({ key, kid } = await localIssuerKey(service.config));
  });
  afterAll(() => service.close());
  afterEach(() => {
    expect(service.contract.takeUndeclared()).toEqual([]);
  });

  const adminClaims = (overrides: JWTPayload = {}) =>
    standardClaims(
      service.config,
      { userId: 'token-admin', organization: organization.identity_organization_id, roles: ['Admin'] },
      overrides,
    );
  const signed = (payload: JWTPayload) => signToken(key, { alg: 'ES256', kid, typ: 'JWT' }, payload);
  const list = (authorization?: string) =>
    service.app.inject({
      method: 'GET',
      url: REPS_URL,
      headers: authorization === undefined ? {} : { authorization },
    });
  const now = () => Math.floor(Date.now() / 1000);

  it('accepts a token of the configured issuer (the baseline the refusals below differ from)', async () => {
    expect((await list(`Bearer ${await signed(adminClaims())}`)).statusCode).toBe(200);
    expect((await list(`bearer ${await signed(adminClaims())}`)).statusCode).toBe(200);
  });

  it('refuses a request without an Authorization header with 401 and WWW-Authenticate: Bearer', async () => {
    expectUnauthorized(await list());
    expectUnauthorized(await list(''));
    expectUnauthorized(await list('Bearer'));
    expectUnauthorized(await list('Bearer '));
  });

  it('refuses other schemes than Bearer', async () => {
    const token = await signed(adminClaims());
    expectUnauthorized(await list(`Basic ${Buffer.from('admin:secret').toString('base64')}`));
    expectUnauthorized(await list(`Token ${token}`));
    expectUnauthorized(await list(token));
    expectUnauthorized(await list(`Bearer ${token} extra`));
  });

  it('refuses an expired token once the 30 s clock tolerance has passed, and accepts one within it', async () => {
    expectUnauthorized(await list(`Bearer ${await signed(adminClaims({ exp: now() - 45 }))}`));
    expect((await list(`Bearer ${await signed(adminClaims({ exp: now() - 15 }))}`)).statusCode).toBe(200);
  });

  it('refuses a token not valid yet (nbf) past the tolerance, and accepts one within it', async () => {
    expectUnauthorized(await list(`Bearer ${await signed(adminClaims({ nbf: now() + 45 }))}`));
    expect((await list(`Bearer ${await signed(adminClaims({ nbf: now() + 15 }))}`)).statusCode).toBe(200);
  });

  it('refuses a token without an expiry', async () => {
    const { exp: _exp, ...claims } = adminClaims();
    expectUnauthorized(await list(`Bearer ${await signed(claims)}`));
  });

  it('refuses a token for another audience, or from another issuer', async () => {
    expectUnauthorized(await list(`Bearer ${await signed(adminClaims({ aud: 'another-api' }))}`));
    expectUnauthorized(await list(`Bearer ${await signed(adminClaims({ aud: undefined }))}`));
    expectUnauthorized(
      await list(`Bearer ${await signed(adminClaims({ iss: 'https://evil.example.com' }))}`),
    );
    expectUnauthorized(await list(`Bearer ${await signed(adminClaims({ iss: undefined }))}`));
  });

  it('refuses an unsigned token (alg: none)', async () => {
    expectUnauthorized(await list(`Bearer ${unsignedToken(adminClaims())}`));
  });

  it('refuses a token signed with a shared secret (HS256), even under the local key id', async () => {
    const secret = new TextEncoder().encode('some-shared-secret-of-thirty-two-bytes!');
    const token = await signToken(secret, { alg: 'HS256', kid, typ: 'JWT' }, adminClaims());
    expectUnauthorized(await list(`Bearer ${token}`));
  });

  it('refuses a token whose payload was changed after signing', async () => {
    const repToken = await signed(adminClaims({ roles: ['SalesRep'] }));
    const forged = tamper(repToken, (payload) => ({ ...payload, roles: ['Admin'] }));
    expectUnauthorized(await list(`Bearer ${forged}`));
  });

  it('refuses a token signed by another key that claims the local key id', async () => {
    const other = await newKeyPair(kid);
    const token = await signToken(other.privateKey, { alg: 'ES256', kid, typ: 'JWT' }, adminClaims());
    expectUnauthorized(await list(`Bearer ${token}`));
  });

  it('never takes a key from the token: jwk, jku and x5u headers are ignored and never fetched', async () => {
    const attacker = await newKeyPair('attacker');
    const server = await startJwksServer([attacker.publicJwk]);
    try {
      const token = await signToken(
        attacker.privateKey,
        {
          alg: 'ES256',
          kid: 'attacker',
          jwk: attacker.publicJwk,
          jku: server.url,
          x5u: server.url,
          typ: 'JWT',
        },
        adminClaims(),
      );
      expectUnauthorized(await list(`Bearer ${token}`));
      const underLocalKid = await signToken(
        attacker.privateKey,
        { alg: 'ES256', kid, jwk: attacker.publicJwk, jku: server.url, typ: 'JWT' },
        adminClaims(),
      );
      expectUnauthorized(await list(`Bearer ${underLocalKid}`));
      expect(server.requests()).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('refuses a token that names no user, or no organization, with 401', async () => {
    const { UserId: _user, sub: _sub, ...noUser } = adminClaims();
    expectUnauthorized(await list(`Bearer ${await signed(noUser)}`));
    expectUnauthorized(await list(`Bearer ${await signed(adminClaims({ UserId: '', sub: '' }))}`));
    const { org_code: _org, ...noOrganization } = adminClaims();
    expectUnauthorized(await list(`Bearer ${await signed(noOrganization)}`));
    expectUnauthorized(await list(`Bearer ${await signed(adminClaims({ org_code: 42 }))}`));
  });

  it('reads roles as strings or as objects with a key (Kinde style); anything else holds no role', async () => {
    const withRoles = async (roles: unknown) => list(`Bearer ${await signed(adminClaims({ roles }))}`);
    expect((await withRoles(['Admin'])).statusCode).toBe(200);
    expect((await withRoles([{ id: 'role_1', key: 'Admin', name: 'Administrator' }])).statusCode).toBe(200);
    expect((await withRoles([{ key: 'SalesRep' }, 'Admin'])).statusCode).toBe(200);
    // Role keys are case-sensitive, a bare string is not a list, and an object needs a key.
    for (const roles of [['admin'], 'Admin', [{ name: 'Admin' }], undefined]) {
      const response = await withRoles(roles);
      expect(response.statusCode, JSON.stringify(roles)).toBe(403);
    }
  });

  it('takes the user from UserId, falling back to sub', async () => {
    const admin = await service.token(organization, 'token-admin', ['Admin']);
    const added = await service.call('PUT', REPS_URL, admin, {
      firstName: 'Sub',
      lastName: 'Claim',
      email: 'sub.claim@example.com',
      repNumber: 'SUB-1',
    });
    expect(added.statusCode).toBe(200);
    const repUserId: string = added.json().identityProviderUserId;
    const repClaims = (overrides: JWTPayload) =>
      standardClaims(
        service.config,
        { userId: repUserId, organization: organization.identity_organization_id, roles: ['SalesRep'] },
        overrides,
      );
    const mine = async (payload: JWTPayload) =>
      service.app.inject({
        method: 'GET',
        url: MY_ORGANIZATIONS_URL,
        headers: { authorization: `Bearer ${await signed(payload)}` },
      });
    const { UserId: _user, ...subOnly } = repClaims({});
    const bySub = await mine(subOnly);
    expect(bySub.statusCode).toBe(200);
    expect(bySub.json().salesRepOrganizations).toHaveLength(1);
    // UserId wins over sub: a sub of the rep does not help a UserId of somebody else (who is no rep: nothing).
    const other = await mine(repClaims({ UserId: 'somebody-else' }));
    expect(other.statusCode).toBe(200);
    expect(other.json().salesRepOrganizations).toEqual([]);
    const bySubOfOther = await mine(repClaims({ sub: 'somebody-else' }));
    expect(bySubOfOther.json().salesRepOrganizations).toHaveLength(1);
  });
});
