import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { startTestService, type TestService } from '../support/service.js';

describe('PUBLIC_URL and the sign-in settings', () => {
  it('PUBLIC_URL defaults to http://HOST:PORT, localhost for a wildcard host, brackets for IPv6', () => {
    expect(loadConfig({}).publicUrl).toBe('http://127.0.0.1:3000');
    expect(loadConfig({ HOST: '0.0.0.0', PORT: '8080' }).publicUrl).toBe('http://localhost:8080');
    expect(loadConfig({ HOST: '::1', PORT: '8080' }).publicUrl).toBe('http://[::1]:8080');
    expect(loadConfig({ HOST: 'reps.internal', PORT: '80' }).publicUrl).toBe('http://reps.internal:80');
  });

  it('PUBLIC_URL as set, without a trailing slash; a query or another scheme is refused naming the variable', () => {
    expect(loadConfig({ PUBLIC_URL: 'https://reps.example.com/' }).publicUrl).toBe(
      'https://reps.example.com',
    );
    expect(() => loadConfig({ PUBLIC_URL: 'https://reps.example.com/?x=1' })).toThrow(ConfigError);
    expect(() => loadConfig({ PUBLIC_URL: 'ftp://reps.example.com' })).toThrow(/PUBLIC_URL/);
  });

  it('every mail link defaults to PUBLIC_URL, the port included', () => {
    expect(loadConfig({ PORT: '4100' }).effects.loginUrl).toBe('http://127.0.0.1:4100/signin?org={org}');
  });

  it('INVITATION_TTL_HOURS defaults to 168 and is validated', () => {
    expect(loadConfig({}).signin.invitationTtlHours).toBe(168);
    expect(loadConfig({ INVITATION_TTL_HOURS: '24' }).signin.invitationTtlHours).toBe(24);
    expect(() => loadConfig({ INVITATION_TTL_HOURS: '0' })).toThrow(/INVITATION_TTL_HOURS/);
    expect(() => loadConfig({ PASSWORD_SCRYPT_LOG2_N: '10' })).toThrow(/PASSWORD_SCRYPT_LOG2_N/);
  });

  it('the embedded sign-in is on only with IDP=local and no AUTH_JWKS_URL', () => {
    expect(loadConfig({}).signin.enabled).toBe(true);
    expect(loadConfig({ AUTH_JWKS_URL: 'https://idp.example/jwks' }).signin.enabled).toBe(false);
    expect(
      loadConfig({
        IDP: 'kinde',
        KINDE_DOMAIN: 'acme.kinde.com',
        KINDE_CLIENT_ID: 'x',
        KINDE_CLIENT_SECRET: 'y',
      }).signin.enabled,
    ).toBe(false);
  });
});

describe('with AUTH_JWKS_URL', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService('pglite', {
      AUTH_JWKS_URL: 'https://idp.example/.well-known/jwks.json',
    });
  });
  afterAll(async () => {
    await service?.close();
  });

  it('serves no discovery, no sign-in page and no invitation endpoint: sign-in happens at that provider', async () => {
    for (const url of ['/.well-known/openid-configuration', '/oidc/auth', '/signin', '/signin/reset']) {
      expect((await service.app.inject({ method: 'GET', url })).statusCode, url).toBe(404);
    }
    const invitation = await service.app.inject({
      method: 'POST',
      url: '/api/organizations/salesreps/invitation',
      payload: { organizationSalesRepId: 'x' },
    });
    expect(invitation.statusCode).toBe(404);
  });
});
