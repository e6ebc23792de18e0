import { createHash, randomUUID } from 'node:crypto';
import path from 'node:path';
import {
  createLocalJWKSet,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { databaseKinds } from '../support/databases.js';
import { addRep, MY_ORGANIZATIONS_URL } from '../support/fixtures.js';
import { startTestService } from '../support/service.js';
import {
  Browser,
  CLIENT_ID,
  GOOD_PASSWORD,
  injectFetch,
  PUBLIC_URL,
  REDIRECT_URI,
  type SigninService,
  setPasswordThroughLink,
  signInThroughPages,
  startSigninService,
} from './support.js';

// panva's openid-client, a relying party written by others, against the embedded provider: what a third-party
// client finds, from discovery to sign-out (docs/signin.md).
describe.each(databaseKinds)('openid-client as a relying party on %s', (kind) => {
  let service: SigninService;
  let organization: Organization;
  let config: oidc.Configuration;
  let counter = 0;

  /** A rep with a password, signed in through the pages with code + PKCE: openid-client's tokens and the browser. */
  const signIn = async (scope = 'openid email', DPoP?: oidc.DPoPHandle) => {
    const email = `third.party${++counter}@example.com`;
    const rep = await addRep(service, await service.adminToken(organization), { email });
    const browser = new Browser(service.app);
    await setPasswordThroughLink(browser, await service.linkMailedTo(email), GOOD_PASSWORD);
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    const signedIn = await signInThroughPages(browser, url.href, { email, password: GOOD_PASSWORD });
    expect(
      signedIn.leftTo?.startsWith(`${REDIRECT_URI}?code=`),
      `${signedIn.response.statusCode} ${signedIn.response.headers.location} ${signedIn.response.body}`,
    ).toBe(true);
    const tokens = await oidc.authorizationCodeGrant(
      config,
      new URL(signedIn.leftTo as string),
      { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce },
      undefined,
      DPoP ? { DPoP } : undefined,
    );
    return { email, rep, browser, tokens };
  };

  const callApi = (accessToken: string) =>
    oidc.fetchProtectedResource(config, accessToken, new URL(`${PUBLIC_URL}${MY_ORGANIZATIONS_URL}`), 'GET');

  const providerKeys = async (app = service.app) =>
    (await app.inject({ method: 'GET', url: '/oidc/jwks', headers: { host: 'salesreps.test' } })).json<{
      keys: JWK[];
    }>().keys;

  beforeAll(async () => {
    service = await startSigninService(kind);
    organization = await service.createOrganization('Third Party Supply');
    config = await oidc.discovery(new URL(PUBLIC_URL), CLIENT_ID, undefined, oidc.None(), {
      execute: [oidc.allowInsecureRequests],
      [oidc.customFetch]: injectFetch(service.app) as oidc.CustomFetch,
    });
  });
  afterAll(async () => {
    await service?.close();
  });

  it('discovery offers the scopes that are granted and the client authentication a registered client has', () => {
    const metadata = config.serverMetadata();
    expect(metadata.issuer).toBe(PUBLIC_URL);
    expect(metadata.scopes_supported).toEqual(['openid', 'email']);
    expect(metadata.token_endpoint_auth_methods_supported).toEqual(['none']);
  });

  it('signs in with code + PKCE; the token response states every scope granted', async () => {
    const { rep, tokens } = await signIn();
    expect(tokens.scope?.split(' ').sort()).toEqual(['email', 'openid']);
    expect(tokens.claims()).toMatchObject({ sub: rep.identityProviderUserId, email: rep.email });
    const api = await callApi(tokens.access_token);
    expect(api.status).toBe(200);
    const body = (await api.json()) as { salesRepOrganizations: { organizationSalesRepId: string }[] };
    expect(body.salesRepOrganizations[0]?.organizationSalesRepId).toBe(rep.organizationSalesRepId);
  });

  it('userinfo answers for the access token issued to a client that asked for openid', async () => {
    const { rep, tokens } = await signIn();
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, rep.identityProviderUserId);
    expect(userinfo).toEqual({ sub: rep.identityProviderUserId, email: rep.email });
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token as string);
    expect(refreshed.scope?.split(' ').sort()).toEqual(['email', 'openid']);
    expect(await oidc.fetchUserInfo(config, refreshed.access_token, rep.identityProviderUserId)).toEqual(
      userinfo,
    );
  });

  it('userinfo gives only the claims of the scopes granted: openid alone is the subject alone', async () => {
    const { rep, tokens } = await signIn('openid');
    expect(tokens.scope).toBe('openid');
    expect(await oidc.fetchUserInfo(config, tokens.access_token, rep.identityProviderUserId)).toEqual({
      sub: rep.identityProviderUserId,
    });
  });

  it('userinfo refuses a token it did not issue to a client with 401 and WWW-Authenticate: Bearer', async () => {
    const minted = await service.adminToken(organization);
    const response = await service.app.inject({
      method: 'GET',
      url: '/oidc/me',
      headers: { host: 'salesreps.test', authorization: `Bearer ${minted}` },
    });
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/^Bearer .*error="invalid_token"/);
    expect(response.json()).toMatchObject({ error: 'invalid_token' });
    const none = await service.app.inject({
      method: 'GET',
      url: '/oidc/me',
      headers: { host: 'salesreps.test' },
    });
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it('revokes both token types as RFC 7009 says: 200 in JSON for each, the refresh token is dead after', async () => {
    const { tokens } = await signIn();
    // The access token first, as oidc-client-ts's revokeTokens() does: a JWT that lasts its time, answered 200.
    await oidc.tokenRevocation(config, tokens.access_token, { token_type_hint: 'access_token' });
    await oidc.tokenRevocation(config, tokens.refresh_token as string, { token_type_hint: 'refresh_token' });
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token as string)).rejects.toThrow();
    for (const [token, hint] of [
      [tokens.access_token, 'access_token'],
      ['not-a-token-at-all', 'refresh_token'],
    ] as const) {
      const response = await service.app.inject({
        method: 'POST',
        url: '/oidc/token/revocation',
        headers: { host: 'salesreps.test', 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ token, token_type_hint: hint, client_id: CLIENT_ID }).toString(),
      });
      expect(response.statusCode, response.body).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
    }
  });

  it('ends the session: after sign-out the refresh token is refused and the browser must sign in again', async () => {
    const { tokens, browser } = await signIn();
    const endSession = oidc.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token as string,
      post_logout_redirect_uri: REDIRECT_URI,
    });
    const confirm = await browser.follow('GET', endSession.href);
    const xsrf = confirm.response.body.match(/name="xsrf" value="([^"]+)"/)?.[1] as string;
    const done = await browser.follow('POST', `${PUBLIC_URL}/oidc/session/end/confirm`, {
      xsrf,
      logout: 'yes',
    });
    expect(done.leftTo?.startsWith(REDIRECT_URI)).toBe(true);
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token as string)).rejects.toThrow();
  });

  it("signs ID tokens RS256 (the default of OpenID Connect), access tokens ES256 with the issuer key file's key", async () => {
    expect(config.serverMetadata().id_token_signing_alg_values_supported?.slice().sort()).toEqual([
      'ES256',
      'RS256',
    ]);
    const { tokens } = await signIn();
    const issuerKid = service.issuer.jwks.keys[0]?.kid;
    expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({ alg: 'ES256', kid: issuerKid });
    const keys = await providerKeys();
    expect(keys.map((key) => key.kty).sort()).toEqual(['EC', 'RSA']);
    expect(keys.find((key) => key.kty === 'EC')?.kid).toBe(issuerKid);
    expect(keys.every((key) => key.d === undefined)).toBe(true);
    const idToken = await jwtVerify(tokens.id_token as string, createLocalJWKSet({ keys }), {
      issuer: PUBLIC_URL,
      audience: CLIENT_ID,
    });
    expect(idToken.protectedHeader.alg).toBe('RS256');
  });

  it('a replica on the same database and issuer key file publishes the same two keys', async () => {
    const replica = await startTestService(
      service.database,
      { PUBLIC_URL, AUTH_LOCAL_KEY_FILE: path.join(service.dataDir, 'issuer-key.json') },
      { runEffects: false },
    );
    try {
      expect(await providerKeys(replica.app)).toEqual(await providerKeys());
    } finally {
      await replica.close();
    }
  });

  it('a browser client of `client add` calls the API and userinfo from its redirect origin, without CORS_ORIGINS', async () => {
    expect(service.config.http.corsOrigins).toEqual([]);
    const { tokens } = await signIn();
    const origin = new URL(REDIRECT_URI).origin;
    const preflight = (from: string, url: string) =>
      service.app.inject({
        method: 'OPTIONS',
        url,
        headers: {
          host: 'salesreps.test',
          origin: from,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
      });
    const allowed = await preflight(origin, MY_ORGANIZATIONS_URL);
    expect(allowed.statusCode).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe(origin);
    expect(String(allowed.headers['access-control-allow-headers']).toLowerCase()).toContain('authorization');
    for (const url of [MY_ORGANIZATIONS_URL, '/oidc/me']) {
      const response = await service.app.inject({
        method: 'GET',
        url,
        headers: { host: 'salesreps.test', origin, authorization: `Bearer ${tokens.access_token}` },
      });
      expect(response.statusCode).toBe(200);
      expect(response.headers['access-control-allow-origin']).toBe(origin);
    }
    const stranger = 'https://elsewhere.example';
    expect(
      (await preflight(stranger, MY_ORGANIZATIONS_URL)).headers['access-control-allow-origin'],
    ).toBeUndefined();
    const fromStranger = await service.app.inject({
      method: 'GET',
      url: MY_ORGANIZATIONS_URL,
      headers: { host: 'salesreps.test', origin: stranger, authorization: `Bearer ${tokens.access_token}` },
    });
    expect(fromStranger.statusCode).toBe(200);
    expect(fromStranger.headers['access-control-allow-origin']).toBeUndefined();
  });

  describe('DPoP (RFC 9449)', () => {
    const apiUrl = `${PUBLIC_URL}${MY_ORGANIZATIONS_URL}`;
    /** A DPoP proof of `key` for a request, with its claims overridden as a test needs. */
    const proof = async (
      key: Awaited<ReturnType<typeof generateKeyPair>>,
      accessToken: string,
      claims: JWTPayload = {},
      header: { jwk?: JWK } = {},
    ) =>
      new SignJWT({
        htm: 'GET',
        htu: apiUrl,
        jti: randomUUID(),
        ath: createHash('sha256').update(accessToken).digest('base64url'),
        ...claims,
      })
        .setProtectedHeader({
          alg: 'ES256',
          typ: 'dpop+jwt',
          jwk: header.jwk ?? (await exportJWK(key.publicKey)),
        })
        .setIssuedAt(typeof claims.iat === 'number' ? claims.iat : undefined)
        .sign(key.privateKey);
    const present = (
      app: typeof service.app,
      scheme: string,
      accessToken: string,
      dpop?: string,
      url = MY_ORGANIZATIONS_URL,
    ) =>
      app.inject({
        method: 'GET',
        url,
        headers: {
          host: 'salesreps.test',
          authorization: `${scheme} ${accessToken}`,
          ...(dpop ? { dpop } : {}),
        },
      });

    it('a client that opts in gets a bound token, which the API and userinfo take with a proof and refuse as a bearer token', async () => {
      const key = await oidc.randomDPoPKeyPair('ES256');
      const DPoP = oidc.getDPoPHandle(config, key);
      const { rep, tokens } = await signIn('openid email', DPoP);
      expect(tokens.token_type).toBe('dpop');
      const api = await oidc.fetchProtectedResource(
        config,
        tokens.access_token,
        new URL(apiUrl),
        'GET',
        undefined,
        undefined,
        { DPoP },
      );
      expect(api.status).toBe(200);
      expect(
        await oidc.fetchUserInfo(config, tokens.access_token, rep.identityProviderUserId, { DPoP }),
      ).toEqual({
        sub: rep.identityProviderUserId,
        email: rep.email,
      });
      const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token as string, undefined, {
        DPoP,
      });
      expect(refreshed.token_type).toBe('dpop');
      const again = await oidc.fetchProtectedResource(
        config,
        refreshed.access_token,
        new URL(apiUrl),
        'GET',
        undefined,
        undefined,
        { DPoP },
      );
      expect(again.status).toBe(200);

      for (const url of [MY_ORGANIZATIONS_URL, '/oidc/me']) {
        const asBearer = await present(service.app, 'Bearer', refreshed.access_token, undefined, url);
        expect(asBearer.statusCode).toBe(401);
        expect(asBearer.headers['www-authenticate']).toMatch(/^DPoP error="invalid_token"/);
      }
      const withoutProof = await present(service.app, 'DPoP', refreshed.access_token);
      expect(withoutProof.statusCode).toBe(401);
      expect(withoutProof.headers['www-authenticate']).toMatch(/^DPoP error="invalid_dpop_proof"/);
    });

    it('checks each proof: its key, method, URL, age and token hash, and takes its jti once, across replicas', async () => {
      const key = await generateKeyPair('ES256', { extractable: true });
      const { tokens } = await signIn('openid email', oidc.getDPoPHandle(config, key));
      const token = tokens.access_token;
      const refused = async (dpop: string, app = service.app) => {
        const response = await present(app, 'DPoP', token, dpop);
        expect(response.statusCode, response.body).toBe(401);
        expect(response.headers['www-authenticate']).toMatch(/^DPoP error="invalid_dpop_proof"/);
      };
      const fresh = await proof(key, token);
      expect((await present(service.app, 'DPoP', token, fresh)).statusCode).toBe(200);
      await refused(fresh);
      const other = await generateKeyPair('ES256');
      await refused(await proof(other, token));
      await refused(await proof(key, token, { htm: 'POST' }));
      await refused(await proof(key, token, { htu: `${PUBLIC_URL}/api/customers` }));
      await refused(await proof(key, token, { iat: Math.floor(Date.now() / 1000) - 300 }));
      await refused(
        await proof(key, token, { ath: createHash('sha256').update('another token').digest('base64url') }),
      );
      // A proof that carries its private key is refused: the header's jwk must be a public key.
      await refused(await proof(key, token, {}, { jwk: await exportJWK(key.privateKey) }));

      const replica = await startTestService(
        service.database,
        { PUBLIC_URL, AUTH_LOCAL_KEY_FILE: path.join(service.dataDir, 'issuer-key.json') },
        { runEffects: false },
      );
      try {
        const used = await proof(key, token);
        expect((await present(service.app, 'DPoP', token, used)).statusCode).toBe(200);
        await refused(used, replica.app);
        expect((await present(replica.app, 'DPoP', token, await proof(key, token))).statusCode).toBe(200);
      } finally {
        await replica.close();
      }
    });

    it('refuses an unbound token sent with the DPoP scheme, and lets a browser send the DPoP header', async () => {
      const { tokens } = await signIn();
      const key = await oidc.randomDPoPKeyPair('ES256');
      const response = await present(
        service.app,
        'DPoP',
        tokens.access_token,
        await proof(key, tokens.access_token),
      );
      expect(response.statusCode).toBe(401);
      expect(response.headers['www-authenticate']).toMatch(/^DPoP error="invalid_token"/);
      const preflight = await service.app.inject({
        method: 'OPTIONS',
        url: MY_ORGANIZATIONS_URL,
        headers: {
          host: 'salesreps.test',
          origin: new URL(REDIRECT_URI).origin,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization, dpop',
        },
      });
      expect(preflight.statusCode).toBe(204);
      expect(String(preflight.headers['access-control-allow-headers']).toLowerCase()).toContain('dpop');
    });
  });
});
