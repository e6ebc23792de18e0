import fs from 'node:fs';
import type { JWK } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { newKeyPair, signToken, startJwksServer } from '../auth/support.js';
import { PUBLIC_URL, type SigninService, startSigninService } from '../signin/support.js';
import { databaseKinds } from '../support/databases.js';
import { expectProblem } from '../support/fixtures.js';
import { startTestService, type TestService } from '../support/service.js';
import { startTestIdp, type TestIdp } from './support.js';

const SSO_URL = '/api/organizations/sso';

describe.each(databaseKinds)(
  'enterprise connections (PUT/GET/DELETE /api/organizations/sso) on %s',
  (kind) => {
    let service: SigninService;
    let idp: TestIdp;
    let acme: Organization;
    let globex: Organization;
    let acmeAdmin: string;
    let globexAdmin: string;

    const oidcBody = (overrides: Record<string, unknown> = {}) => ({
      protocol: 'oidc',
      issuer: idp.issuer,
      clientId: idp.clientId,
      clientSecret: idp.clientSecret,
      domains: ['acme.example'],
      passwordSignIn: false,
      ...overrides,
    });

    beforeAll(async () => {
      idp = await startTestIdp();
      service = await startSigninService(kind, { SSO_ALLOW_PRIVATE_NETWORKS: 'true' });
      acme = await service.createOrganization('Acme Supply');
      globex = await service.createOrganization('Globex Supply');
      acmeAdmin = await service.adminToken(acme);
      globexAdmin = await service.adminToken(globex);
    });
    afterAll(async () => {
      await service?.close();
      await idp?.close();
    });

    it('PUT checks the issuer, stores the connection and answers it as GET shows it, without the secret', async () => {
      const put = await service.call(
        'PUT',
        SSO_URL,
        acmeAdmin,
        oidcBody({ domains: ['Acme.Example', 'acme.example', 'sales.acme.example'] }),
      );
      expect(put.statusCode, put.body).toBe(200);
      const view = put.json();
      expect(view).toEqual({
        protocol: 'oidc',
        issuer: idp.issuer,
        clientId: idp.clientId,
        domains: ['acme.example', 'sales.acme.example'],
        passwordSignIn: false,
        redirectUri: `${PUBLIC_URL}/signin/sso/callback`,
        spEntityId: expect.stringMatching(new RegExp(`^${PUBLIC_URL}/signin/sso/saml/[^/]+/metadata$`)),
        acsUrl: expect.stringMatching(new RegExp(`^${PUBLIC_URL}/signin/sso/saml/[^/]+/acs$`)),
        spMetadataUrl: view.spEntityId,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      expect(idp.requests).toContain('GET /.well-known/openid-configuration');

      const get = await service.call('GET', SSO_URL, acmeAdmin);
      expect(get.statusCode).toBe(200);
      expect(get.json()).toEqual(view);
      expect(get.body).not.toContain(idp.clientSecret);
    });

    it('the client secret is encrypted at rest, with a key outside the database, and never logged', async () => {
      const row = await service.db
        .selectFrom('sso_connection')
        .select('client_secret_encrypted')
        .where('organization_id', '=', acme.id)
        .executeTakeFirstOrThrow();
      expect(row.client_secret_encrypted).toMatch(
        /^v1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/,
      );
      expect(row.client_secret_encrypted).not.toContain(idp.clientSecret);
      expect(row.client_secret_encrypted).not.toContain(Buffer.from(idp.clientSecret).toString('base64url'));
      const keyFile = `${service.dataDir}/sso-encryption-keys`;
      expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
      expect(service.logLines.join('\n')).not.toContain(idp.clientSecret);
      const events = await service.call(
        'GET',
        '/api/organizations/events?action=sso.connection_updated',
        acmeAdmin,
      );
      expect(events.body).not.toContain(idp.clientSecret);
    });

    it('each change is an event in the organization: sso.connection_updated, then sso.connection_removed', async () => {
      const events = await service.call(
        'GET',
        '/api/organizations/events?action=sso.connection_updated',
        acmeAdmin,
      );
      expect(events.json()).toEqual([
        expect.objectContaining({
          action: 'sso.connection_updated',
          organizationId: acme.id,
          actor: { type: 'user', id: 'admin-1' },
          targets: [{ type: 'sso_connection', id: expect.any(String) }],
          changes: expect.objectContaining({
            issuer: { from: null, to: idp.issuer },
            domains: { from: null, to: ['acme.example', 'sales.acme.example'] },
            passwordSignIn: { from: null, to: false },
          }),
        }),
      ]);
    });

    it('a domain another organization serves is refused with 409, and nothing of the second organization changes', async () => {
      const taken = await service.call(
        'PUT',
        SSO_URL,
        globexAdmin,
        oidcBody({ domains: ['globex.example', 'ACME.example'] }),
      );
      expectProblem(taken, 409);
      expect(taken.json().type).toBe('urn:salesreps:problem:sso-domain-taken');
      expect(taken.json().detail).toContain('acme.example');
      expect((await service.call('GET', SSO_URL, globexAdmin)).statusCode).toBe(404);
    });

    it("an organization sees and removes only its own connection: another's admin gets 404", async () => {
      expectProblem(await service.call('GET', SSO_URL, globexAdmin), 404);
      expectProblem(await service.call('DELETE', SSO_URL, globexAdmin), 404);
      expect((await service.call('GET', SSO_URL, acmeAdmin)).statusCode).toBe(200);
    });

    it('a SalesRep token is refused (Admin policy)', async () => {
      const rep = await service.issuer.sign(
        { userId: 'someone', organization: acme.identity_organization_id, roles: ['SalesRep'] },
        600,
      );
      expectProblem(await service.call('GET', SSO_URL, rep), 403);
      expectProblem(await service.call('PUT', SSO_URL, rep, oidcBody()), 403);
    });

    it('an issuer that cannot be reached, or whose discovery is not an IdP, is 400 naming issuer', async () => {
      for (const issuer of ['http://127.0.0.1:9/', `${PUBLIC_URL}/nothing-here`, 'not a url']) {
        const refused = await service.call('PUT', SSO_URL, globexAdmin, oidcBody({ issuer, domains: [] }));
        expectProblem(refused, 400);
        expect(refused.json().errors?.[0]?.field, issuer).toBe('issuer');
      }
      expect((await service.call('GET', SSO_URL, globexAdmin)).statusCode).toBe(404);
    });

    it('the body is checked: only protocol oidc for now, unknown fields and bad domains are 400', async () => {
      for (const body of [
        oidcBody({ protocol: 'saml' }),
        oidcBody({ extra: true }),
        oidcBody({ domains: ['not a domain'] }),
        { protocol: 'oidc', issuer: idp.issuer },
      ]) {
        expectProblem(await service.call('PUT', SSO_URL, globexAdmin, body), 400);
      }
    });

    it('a PUT replaces the connection; DELETE removes it (200, then 404), each recorded', async () => {
      const replaced = await service.call('PUT', SSO_URL, acmeAdmin, oidcBody({ passwordSignIn: true }));
      expect(replaced.statusCode).toBe(200);
      expect(replaced.json().passwordSignIn).toBe(true);
      const removed = await service.call('DELETE', SSO_URL, acmeAdmin);
      expect(removed.statusCode).toBe(200);
      expect(removed.json()).toEqual({ success: true });
      expectProblem(await service.call('GET', SSO_URL, acmeAdmin), 404);
      expectProblem(await service.call('DELETE', SSO_URL, acmeAdmin), 404);
      const events = await service.call(
        'GET',
        '/api/organizations/events?action=sso.connection_removed',
        acmeAdmin,
      );
      expect(events.json()).toEqual([
        expect.objectContaining({
          changes: expect.objectContaining({ issuer: { from: idp.issuer, to: null } }),
        }),
      ]);
      // The domain is free again.
      const globexNow = await service.call(
        'PUT',
        SSO_URL,
        globexAdmin,
        oidcBody({ domains: ['acme.example'] }),
      );
      expect(globexNow.statusCode).toBe(200);
    });
  },
);

describe('the IdP address guard (SSO_ALLOW_PRIVATE_NETWORKS unset)', () => {
  let service: TestService;
  let organization: Organization;
  beforeAll(async () => {
    service = await startTestService('pglite', { PUBLIC_URL });
    organization = await service.createOrganization('Guarded Supply');
  });
  afterAll(async () => {
    await service?.close();
  });

  it('an http, loopback, private or metadata issuer is 400 naming issuer, before anything is fetched', async () => {
    const admin = await service.token(organization, 'admin-1', ['Admin']);
    for (const issuer of [
      'http://idp.example.com',
      'https://127.0.0.1',
      'https://10.1.2.3',
      'https://169.254.169.254',
      'https://localhost',
    ]) {
      const refused = await service.call('PUT', SSO_URL, admin, {
        protocol: 'oidc',
        issuer,
        clientId: 'x',
        clientSecret: 'y',
        domains: [],
      });
      expectProblem(refused, 400);
      expect(refused.json().errors, issuer).toEqual([{ field: 'issuer', message: expect.any(String) }]);
    }
  });
});

describe('with an external identity provider (AUTH_JWKS_URL)', () => {
  let service: TestService;
  let jwksServer: Awaited<ReturnType<typeof startJwksServer>>;
  let token: string;
  afterEach(() => {
    expect(service.contract.takeUndeclared()).toEqual([]);
  });
  beforeAll(async () => {
    const key = await newKeyPair('kinde-key-1');
    jwksServer = await startJwksServer([key.publicJwk as JWK]);
    service = await startTestService('pglite', {
      AUTH_JWKS_URL: jwksServer.url,
      AUTH_ISSUER: 'https://acme.kinde.com',
    });
    const organization = await service.createOrganization('Kinde Supply');
    const now = Math.floor(Date.now() / 1000);
    token = await signToken(
      key.privateKey,
      { alg: 'ES256', kid: 'kinde-key-1', typ: 'JWT' },
      {
        iss: 'https://acme.kinde.com',
        aud: service.config.auth.audience,
        iat: now,
        exp: now + 300,
        sub: 'kp_admin',
        org_code: organization.identity_organization_id,
        roles: ['Admin'],
      },
    );
  });
  afterAll(async () => {
    await service?.close();
    await jwksServer?.close();
  });

  it('every connection endpoint answers 409 sso-managed-externally: connections are that provider\u2019s', async () => {
    for (const method of ['GET', 'DELETE'] as const) {
      const answer = await service.call(method, SSO_URL, token);
      expectProblem(answer, 409);
      expect(answer.json().type).toBe('urn:salesreps:problem:sso-managed-externally');
    }
    const put = await service.call('PUT', SSO_URL, token, {
      protocol: 'oidc',
      issuer: 'https://acme.okta.com',
      clientId: 'x',
      clientSecret: 'y',
      domains: [],
    });
    expectProblem(put, 409);
  });
});
