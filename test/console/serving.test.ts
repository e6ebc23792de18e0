import fs from 'node:fs';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { CONSOLE_BUILD_DIR } from '../../src/http/console.js';
import { startTestService, type TestService } from '../support/service.js';

// How the service serves the web console (src/http/console.ts) and tells it where to sign in. This is HTTP serving
// of files held in memory and of settings: no query touches the database, so the embedded one (PGlite) is enough.

const PUBLIC_URL = 'http://salesreps.test';
/** The issue's budget for the first load: the Brotli bytes of the scripts index.html loads. */
const FIRST_LOAD_JS_BUDGET_BYTES = 150_000;

const get = (service: TestService, url: string, headers: Record<string, string> = {}) =>
  service.app.inject({ method: 'GET', url, headers: { host: 'salesreps.test', ...headers } });

/** The files of this service index.html loads: its scripts, and its stylesheets and preloads (not a data: icon). */
function referencedFiles(html: string): { scripts: string[]; links: string[] } {
  const scripts = [...html.matchAll(/<script\b[^>]*\bsrc="([^"]+)"/g)].map((match) => match[1] ?? '');
  const links = [...html.matchAll(/<link\b[^>]*\bhref="(\/[^"]+)"/g)].map((match) => match[1] ?? '');
  return { scripts, links };
}

function directive(response: LightMyRequestResponse, name: string): string | undefined {
  return String(response.headers['content-security-policy'])
    .split(';')
    .map((part) => part.trim())
    .find((part) => part.startsWith(`${name} `));
}

describe('the console build', () => {
  it('is there to serve (npm run build writes dist/console/ with a .br and a .gz beside each file)', () => {
    expect(fs.existsSync(path.join(CONSOLE_BUILD_DIR, 'index.html')), 'run npm run build').toBe(true);
    const files = fs.readdirSync(CONSOLE_BUILD_DIR, { recursive: true, encoding: 'utf8' });
    for (const file of files.filter((name) => /\.(js|css|html)$/.test(name))) {
      expect(files, file).toContain(`${file}.br`);
      expect(files, file).toContain(`${file}.gz`);
    }
  });
});

describe('the console with the embedded sign-in', () => {
  let service: TestService;
  let html: string;
  let assets: { scripts: string[]; links: string[] };
  beforeAll(async () => {
    service = await startTestService('pglite', { PUBLIC_URL });
    html = (await get(service, '/console/')).body;
    assets = referencedFiles(html);
  });
  afterAll(async () => {
    await service?.close();
  });

  it('/ leads to /console/', async () => {
    const response = await get(service, '/');
    expect(response.statusCode).toBe(302);
    expect(response.headers.location).toBe('/console/');
  });

  it('config.json names this service as the issuer, the built-in client and PUBLIC_URL/console/ as redirect', async () => {
    const response = await get(service, '/console/config.json');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.headers['cache-control']).toBe('no-cache');
    expect(response.json()).toEqual({
      signIn: {
        issuer: PUBLIC_URL,
        clientId: 'salesreps-console',
        redirectUri: `${PUBLIC_URL}/console/`,
        scope: 'openid email',
        authorizationParameters: {},
        claims: { organization: 'org_code', roles: 'roles' },
      },
    });
  });

  it('the issuer of config.json is the one discovery announces, and it takes the console client and redirect', async () => {
    const { signIn } = (await get(service, '/console/config.json')).json() as {
      signIn: { issuer: string; clientId: string; redirectUri: string };
    };
    const discovery = await get(service, '/.well-known/openid-configuration');
    expect(discovery.json()).toMatchObject({ issuer: signIn.issuer });
    const authorize = await get(
      service,
      `/oidc/auth?${new URLSearchParams({
        client_id: signIn.clientId,
        redirect_uri: signIn.redirectUri,
        response_type: 'code',
        scope: 'openid offline_access',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      })}`,
    );
    expect(authorize.statusCode).toBe(303);
    expect(authorize.headers.location).toMatch(/^\/signin\/interaction\//);
  });

  it('/console/ is the built index.html, revalidated on every load', async () => {
    const response = await get(service, '/console/');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers['cache-control']).toBe('no-cache');
    expect(response.rawPayload.equals(fs.readFileSync(path.join(CONSOLE_BUILD_DIR, 'index.html')))).toBe(
      true,
    );
  });

  it('any other path under /console/ is the single page too (its router reads the path)', async () => {
    for (const url of ['/console/reps', '/console/customers/C-1?tab=contacts', '/console/events/deep/link']) {
      const response = await get(service, url);
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['content-type'], url).toBe('text/html; charset=utf-8');
      expect(response.headers['cache-control'], url).toBe('no-cache');
      expect(response.body, url).toBe(html);
    }
  });

  it('a built asset is served with its type and cached for a year as immutable', async () => {
    const [script] = assets.scripts;
    const stylesheet = assets.links.find((link) => link.endsWith('.css'));
    expect(script).toMatch(/^\/console\/assets\/.+\.js$/);
    expect(stylesheet).toMatch(/^\/console\/assets\/.+\.css$/);
    for (const [url, type] of [
      [script, 'text/javascript; charset=utf-8'],
      [stylesheet, 'text/css; charset=utf-8'],
    ] as const) {
      const response = await get(service, url ?? '');
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['content-type'], url).toBe(type);
      expect(response.headers['cache-control'], url).toBe('public, max-age=31536000, immutable');
      const file = path.join(CONSOLE_BUILD_DIR, (url ?? '').replace(/^\/console\//, ''));
      expect(response.rawPayload.equals(fs.readFileSync(file)), url).toBe(true);
    }
  });

  it('a missing file under /console/assets/ is a 404 problem, never the page', async () => {
    for (const url of [
      '/console/assets/index-00000000.js',
      '/console/assets/',
      '/console/assets/x.css?v=1',
    ]) {
      const response = await get(service, url);
      expect(response.statusCode, url).toBe(404);
      expect(response.headers['content-type'], url).toMatch(/^application\/problem\+json/);
      expect(response.json(), url).toMatchObject({
        status: 404,
        type: expect.stringMatching(/not-found$/),
        detail: `No console file ${url.split('?')[0]}.`,
      });
    }
  });

  it('a path climbing out of the build (encoded ..) finds no file outside it', async () => {
    for (const url of [
      '/console/assets/..%2f..%2f..%2fpackage.json',
      '/console/assets/%2e%2e/%2e%2e/%2e%2e/package.json',
    ]) {
      const response = await get(service, url);
      expect(response.body, url).not.toContain('"devDependencies"');
      expect([200, 404], url).toContain(response.statusCode);
      if (response.statusCode === 200) expect(response.body, url).toBe(html);
    }
  });

  it('Brotli when accepted, else gzip when accepted, else the file as it is; always varying on the coding', async () => {
    const [script] = assets.scripts;
    const url = script ?? '';
    const identity = fs.readFileSync(path.join(CONSOLE_BUILD_DIR, url.replace(/^\/console\//, '')));
    for (const target of [url, '/console/', '/console/reps']) {
      const br = await get(service, target, { 'accept-encoding': 'gzip, deflate, br, zstd' });
      expect(br.headers['content-encoding'], target).toBe('br');
      expect(br.headers.vary, target).toMatch(/accept-encoding/i);
      const gzip = await get(service, target, { 'accept-encoding': 'gzip, deflate' });
      expect(gzip.headers['content-encoding'], target).toBe('gzip');
      expect(gzip.headers.vary, target).toMatch(/accept-encoding/i);
      const plain = await get(service, target, { 'accept-encoding': 'identity' });
      expect(plain.headers['content-encoding'], target).toBeUndefined();
      expect(plain.headers.vary, target).toMatch(/accept-encoding/i);
      const none = await get(service, target);
      expect(none.headers['content-encoding'], target).toBeUndefined();
      expect(brotliDecompressSync(br.rawPayload).equals(plain.rawPayload), target).toBe(true);
      expect(gunzipSync(gzip.rawPayload).equals(plain.rawPayload), target).toBe(true);
      expect(none.rawPayload.equals(plain.rawPayload), target).toBe(true);
      if (target === url) expect(plain.rawPayload.equals(identity)).toBe(true);
      expect(br.rawPayload.length, target).toBeLessThan(plain.rawPayload.length);
    }
  });

  it('its own policy: scripts and styles from this origin only, no inline, fetches to this origin and the issuer', async () => {
    for (const url of ['/console/', '/console/reps', assets.scripts[0] ?? '']) {
      const response = await get(service, url);
      const policy = String(response.headers['content-security-policy']);
      expect(policy, url).not.toContain('unsafe-inline');
      expect(policy, url).not.toContain('unsafe-eval');
      expect(directive(response, 'script-src'), url).toBe("script-src 'self'");
      expect(directive(response, 'style-src'), url).toBe("style-src 'self'");
      expect(directive(response, 'default-src'), url).toBe("default-src 'self'");
      expect(directive(response, 'connect-src'), url).toBe(`connect-src 'self' ${PUBLIC_URL}`);
      expect(directive(response, 'frame-ancestors'), url).toBe("frame-ancestors 'none'");
      expect(directive(response, 'object-src'), url).toBe("object-src 'none'");
      expect(directive(response, 'base-uri'), url).toBe("base-uri 'none'");
    }
  });

  it('index.html has no inline script or style: every <script> has a src and an empty body', () => {
    const tags = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(tags.length).toBeGreaterThan(0);
    for (const [tag, attributes, body] of tags) {
      expect(attributes, tag).toMatch(/\bsrc="\/console\/assets\/[^"]+"/);
      expect(body?.trim(), tag).toBe('');
    }
    expect(html).not.toMatch(/<style\b/i);
    expect(html).not.toMatch(/\sstyle=/i);
    expect(html).not.toMatch(/\son[a-z]+=/i);
  });

  it('every file index.html loads is served, and its scripts are at most 150 kB in Brotli (the first-load budget)', async () => {
    let scriptBytes = 0;
    for (const url of [...assets.scripts, ...assets.links]) {
      const response = await get(service, url, { 'accept-encoding': 'br' });
      expect(response.statusCode, url).toBe(200);
      if (url.endsWith('.js')) scriptBytes += response.rawPayload.length;
    }
    expect(scriptBytes).toBeGreaterThan(0);
    expect(scriptBytes).toBeLessThanOrEqual(FIRST_LOAD_JS_BUDGET_BYTES);
  });
});

describe('the console with an external provider (AUTH_JWKS_URL) and CONSOLE_OIDC_CLIENT_ID', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService('pglite', {
      PUBLIC_URL: 'https://reps.example.com',
      AUTH_JWKS_URL: 'https://acme.kinde.com/.well-known/jwks',
      AUTH_ISSUER: 'https://acme.kinde.com',
      AUTH_CLAIM_ORGANIZATION: 'https://acme.test/org',
      AUTH_CLAIM_ROLES: 'https://acme.test/roles',
      CONSOLE_OIDC_CLIENT_ID: 'console-spa',
    });
  });
  afterAll(async () => {
    await service?.close();
  });

  it("config.json names that client, AUTH_ISSUER as the issuer by default, Kinde's offline scope and audience, and the claim names", async () => {
    expect((await get(service, '/console/config.json')).json()).toEqual({
      signIn: {
        issuer: 'https://acme.kinde.com',
        clientId: 'console-spa',
        redirectUri: 'https://reps.example.com/console/',
        scope: 'openid email offline',
        authorizationParameters: { audience: 'salesreps-api' },
        claims: { organization: 'https://acme.test/org', roles: 'https://acme.test/roles' },
      },
    });
  });

  it('the policy lets the console fetch from the issuer’s origin (discovery, token, refresh), and post forms nowhere else', async () => {
    const response = await get(service, '/console/');
    expect(response.statusCode).toBe(200);
    expect(directive(response, 'connect-src')).toBe("connect-src 'self' https://acme.kinde.com");
    expect(directive(response, 'form-action')).toBe("form-action 'self'");
  });

  it('CONSOLE_OIDC_ISSUER, when set, is the issuer instead of AUTH_ISSUER', () => {
    const config = loadConfig({
      AUTH_JWKS_URL: 'https://acme.kinde.com/.well-known/jwks',
      AUTH_ISSUER: 'https://acme.kinde.com',
      CONSOLE_OIDC_ISSUER: 'https://login.acme.test',
      CONSOLE_OIDC_CLIENT_ID: 'console-spa',
    });
    expect(config.console).toMatchObject({ clientId: 'console-spa', issuer: 'https://login.acme.test' });
  });
});

describe('the console with an external provider and no CONSOLE_OIDC_CLIENT_ID', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService('pglite', {
      AUTH_JWKS_URL: 'https://acme.kinde.com/.well-known/jwks',
      AUTH_ISSUER: 'https://acme.kinde.com',
    });
  });
  afterAll(async () => {
    await service?.close();
  });

  it('config.json says there is no sign-in (signIn null), and the page is still served', async () => {
    expect((await get(service, '/console/config.json')).json()).toEqual({ signIn: null });
    const page = await get(service, '/console/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
  });

  it('the policy lets the console fetch from this origin only', async () => {
    expect(directive(await get(service, '/console/'), 'connect-src')).toBe("connect-src 'self'");
  });
});

describe('the console settings (loadConfig)', () => {
  it('CONSOLE_OIDC_SCOPE and CONSOLE_OIDC_AUDIENCE replace the defaults (AUTH_AUDIENCE is the audience by default)', () => {
    const base = {
      AUTH_JWKS_URL: 'https://idp.example/jwks',
      AUTH_ISSUER: 'https://idp.example',
      CONSOLE_OIDC_CLIENT_ID: 'spa',
    };
    expect(loadConfig({ ...base, AUTH_AUDIENCE: 'reps-api' }).console).toMatchObject({
      scope: 'openid email offline',
      audience: 'reps-api',
    });
    expect(
      loadConfig({
        ...base,
        CONSOLE_OIDC_SCOPE: 'openid profile email offline',
        CONSOLE_OIDC_AUDIENCE: 'other',
      }).console,
    ).toMatchObject({ scope: 'openid profile email offline', audience: 'other' });
  });

  it('CONSOLE_OIDC_CLIENT_ID without an issuer URL (no CONSOLE_OIDC_ISSUER, AUTH_ISSUER not a URL) is refused', () => {
    const jwks = {
      AUTH_JWKS_URL: 'https://idp.example/.well-known/jwks.json',
      CONSOLE_OIDC_CLIENT_ID: 'spa',
    };
    expect(() => loadConfig(jwks)).toThrow(ConfigError);
    expect(() => loadConfig(jwks)).toThrow(/CONSOLE_OIDC_CLIENT_ID needs CONSOLE_OIDC_ISSUER/);
    expect(() => loadConfig({ ...jwks, AUTH_ISSUER: 'salesreps-prod' })).toThrow(ConfigError);
  });

  it('a CONSOLE_OIDC_ISSUER that is no http(s) URL is refused naming it', () => {
    expect(() =>
      loadConfig({
        AUTH_JWKS_URL: 'https://idp.example/.well-known/jwks.json',
        CONSOLE_OIDC_ISSUER: 'ftp://idp.example',
        CONSOLE_OIDC_CLIENT_ID: 'spa',
      }),
    ).toThrow(/CONSOLE_OIDC_ISSUER/);
  });

  it('without CONSOLE_OIDC_CLIENT_ID there is no console client, whatever the issuer', () => {
    expect(loadConfig({}).console).toMatchObject({ clientId: undefined, issuer: undefined });
    expect(loadConfig({ AUTH_ISSUER: 'https://acme.kinde.com' }).console).toMatchObject({
      clientId: undefined,
      issuer: 'https://acme.kinde.com',
    });
  });
});
