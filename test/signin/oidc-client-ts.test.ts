import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { UserManager } from 'oidc-client-ts';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { addClient } from '../../src/signin/service.js';
import { launchChromium } from '../support/browser.js';
import { databaseKinds } from '../support/databases.js';
import { addRep, MY_ORGANIZATIONS_URL } from '../support/fixtures.js';
import { mailedLink } from '../support/mail.js';
import { freePort } from '../support/ports.js';
import { startTestService, type TestService } from '../support/service.js';
import { GOOD_PASSWORD } from './support.js';

vi.setConfig({ testTimeout: 90_000, hookTimeout: 120_000 });

/** oidc-client-ts's own browser build, as an integrator's page loads it (no CDN, no bundling of ours). */
const OIDC_CLIENT_TS = fs.readFileSync(
  path.join(
    path.dirname(createRequire(import.meta.url).resolve('oidc-client-ts/package.json')),
    'dist/browser/oidc-client-ts.min.js',
  ),
  'utf8',
);

const CLIENT_ID = 'spa-of-others';

/**
 * A single-page app of an integrator on its own origin: oidc-client-ts's `UserManager` with `loadUserInfo`, a
 * "Sign in" and a "Sign out" button, and a /callback that ends the sign-in. The test drives the rest through
 * `window.manager`, as the app's own code would.
 */
function relyingPartyPage(settings: Record<string, unknown>, pathname: string): string {
  const script = `
    const manager = new oidc.UserManager({
      ...${JSON.stringify(settings)},
      userStore: new oidc.WebStorageStateStore({ store: window.localStorage }),
    });
    window.manager = manager;
    const status = document.getElementById('status');
    document.getElementById('sign-in').addEventListener('click', () => manager.signinRedirect());
    document.getElementById('sign-out').addEventListener('click', () => manager.signoutRedirect());
    if (${JSON.stringify(pathname)} === '/callback') {
      manager.signinRedirectCallback().then(
        (user) => { status.textContent = 'signed in as ' + user.profile.sub; },
        (error) => { status.textContent = 'failed: ' + error.message; },
      );
    } else if (${JSON.stringify(pathname)} === '/signed-out') {
      status.textContent = 'signed out';
    }`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Relying party</title>
<script src="/oidc-client-ts.min.js"></script></head><body><main><h1>Relying party</h1>
<output id="status"></output>
<button id="sign-in">Sign in</button><button id="sign-out">Sign out</button></main>
<script>${script}</script></body></html>`;
}

/** What the page's scripts reach: `window.manager`, oidc-client-ts's UserManager. */
interface PageWindow {
  manager: Pick<UserManager, 'getUser' | 'signinSilent' | 'revokeTokens'>;
}

// oidc-client-ts 3.5 (authts), a browser relying party written by others, in Chromium against the embedded
// provider: code + PKCE with the sign-in page filled in the browser, userinfo, refresh, the API called across
// origins, revocation of both tokens and sign-out (docs/signin.md, "Relying parties").
describe.each(databaseKinds)('oidc-client-ts in Chromium on %s', (kind) => {
  let service: TestService;
  let browser: Browser;
  let page: Page;
  let publicUrl: string;
  let clientOrigin: string;
  let clientServer: http.Server;
  let organization: Organization;
  const email = `spa.rep.${kind}@example.com`;
  let organizationSalesRepId: string;
  let subject: string;
  /** The provider's and the API's answers to the page, as `METHOD path status content-type allow-origin=…`. */
  const answers: string[] = [];
  const answered = (pathname: string) => answers.filter((line) => line.split(' ')[1] === pathname);
  /** Script errors of the page. */
  const pageErrors: string[] = [];

  beforeAll(async () => {
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    service = await startTestService(
      kind,
      {
        PUBLIC_URL: publicUrl,
        PORT: String(port),
        PASSWORD_SCRYPT_LOG2_N: '14',
        EFFECTS_POLL_MS: '20',
        RATE_LIMIT_MAX: '100000',
      },
      { runEffects: true },
    );
    await service.app.listen({ host: '127.0.0.1', port });

    const clientPort = await freePort();
    clientOrigin = `http://localhost:${clientPort}`;
    const settings = {
      authority: publicUrl,
      client_id: CLIENT_ID,
      redirect_uri: `${clientOrigin}/callback`,
      post_logout_redirect_uri: `${clientOrigin}/signed-out`,
      response_type: 'code',
      scope: 'openid email',
      loadUserInfo: true,
      automaticSilentRenew: false,
    };
    clientServer = http.createServer((request, response) => {
      const { pathname } = new URL(request.url ?? '/', clientOrigin);
      if (pathname === '/oidc-client-ts.min.js') {
        response.writeHead(200, { 'content-type': 'text/javascript' }).end(OIDC_CLIENT_TS);
      } else {
        response
          .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
          .end(relyingPartyPage(settings, pathname));
      }
    });
    await new Promise<void>((resolve) => clientServer.listen(clientPort, '127.0.0.1', resolve));
    // As `salesreps client add --id … --redirect-uri …` registers it: its redirect origin is the page's origin.
    await addClient(service.db, {
      id: CLIENT_ID,
      redirectUris: [settings.redirect_uri, settings.post_logout_redirect_uri],
    });

    organization = await service.createOrganization('Single Page Supply');
    const rep = await addRep(service, await service.token(organization, 'admin-1', ['Admin']), { email });
    organizationSalesRepId = rep.organizationSalesRepId;
    subject = rep.identityProviderUserId;

    browser = await launchChromium();
    page = await browser.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('response', (response) => {
      const url = new URL(response.url());
      if (url.origin !== publicUrl) return;
      const headers = response.headers();
      answers.push(
        `${response.request().method()} ${url.pathname} ${response.status()} ${headers['content-type'] ?? ''} allow-origin=${headers['access-control-allow-origin'] ?? ''}`,
      );
    });
    await page.goto(await mailedLink(service.dataDir, email));
    await page.getByLabel('Password').fill(GOOD_PASSWORD);
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.locator('h1', { hasText: 'Password set' }).waitFor();
  });
  afterAll(async () => {
    await browser?.close();
    clientServer?.close();
    await service?.close();
  });

  const user = () => page.evaluate(() => (globalThis as unknown as PageWindow).manager.getUser());

  it('signs in with code + PKCE through the sign-in page, and loadUserInfo reads userinfo with the access token', async () => {
    await page.goto(`${clientOrigin}/`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${publicUrl}/**`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(GOOD_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${clientOrigin}/callback?**`);
    // The callback exchanges the code and reads userinfo: two round trips, more than poll's one second on a busy machine.
    await expect
      .poll(() => page.locator('#status').textContent(), { timeout: 20_000 })
      .toMatch(/^(signed in|failed)/);
    expect(await page.locator('#status').textContent()).toBe(`signed in as ${subject}`);

    const signedIn = await user();
    expect(signedIn?.token_type.toLowerCase()).toBe('bearer');
    expect(signedIn?.scope?.split(' ').sort()).toEqual(['email', 'openid']);
    expect(signedIn?.refresh_token).toEqual(expect.any(String));
    expect(signedIn?.profile).toMatchObject({ sub: subject, email });
    expect(answered('/oidc/token')).toEqual([
      expect.stringMatching(/^POST \/oidc\/token 200 application\/json/),
    ]);
    expect(answered('/oidc/me')).toEqual([expect.stringMatching(/^GET \/oidc\/me 200 application\/json/)]);
    expect(pageErrors).toEqual([]);
  });

  it('refreshes with the refresh token (signinSilent): new tokens, the same person', async () => {
    const before = await user();
    const refreshed = await page.evaluate(() => (globalThis as unknown as PageWindow).manager.signinSilent());
    expect(refreshed?.access_token).toEqual(expect.any(String));
    expect(refreshed?.access_token).not.toBe(before?.access_token);
    expect(refreshed?.refresh_token).toEqual(expect.any(String));
    expect(refreshed?.profile).toMatchObject({ sub: subject, email });
    expect(answered('/oidc/token').at(-1)).toMatch(/^POST \/oidc\/token 200 /);
  });

  it('calls the API from its own origin with the access token: CORS admits the registered redirect origin', async () => {
    expect(service.config.http.corsOrigins).toEqual([]);
    const result = await page.evaluate(async (url) => {
      const signedIn = await (globalThis as unknown as PageWindow).manager.getUser();
      const response = await fetch(url, { headers: { authorization: `Bearer ${signedIn?.access_token}` } });
      return { status: response.status, body: (await response.json()) as unknown };
    }, `${publicUrl}${MY_ORGANIZATIONS_URL}`);
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({
      salesRepOrganizations: [expect.objectContaining({ organizationSalesRepId })],
    });
    // A cross-origin fetch with Authorization is preflighted; the browser read the answer, so CORS admitted it.
    expect(answered(MY_ORGANIZATIONS_URL)).toEqual([
      expect.stringMatching(new RegExp(`^GET \\S+ 200 application/json.* allow-origin=${clientOrigin}$`)),
    ]);
  });

  it('revokeTokens() revokes the access token and then the refresh token, each answered 200 in JSON', async () => {
    const refreshToken = (await user())?.refresh_token as string;
    await page.evaluate(() => (globalThis as unknown as PageWindow).manager.revokeTokens());
    expect(answered('/oidc/token/revocation')).toEqual([
      expect.stringMatching(/^POST \S+ 200 application\/json/),
      expect.stringMatching(/^POST \S+ 200 application\/json/),
    ]);
    expect((await user())?.refresh_token).toBeNull();
    // The refresh token the page had is dead at the provider, not only forgotten by the page.
    const refused = await page.evaluate(
      async ({ tokenUrl, clientId, token }) => {
        const response = await fetch(tokenUrl, {
          method: 'POST',
          body: new URLSearchParams({
            grant_type: 'refresh_token',
            refresh_token: token,
            client_id: clientId,
          }),
        });
        return { status: response.status, body: (await response.json()) as { error?: string } };
      },
      { tokenUrl: `${publicUrl}/oidc/token`, clientId: CLIENT_ID, token: refreshToken },
    );
    expect(refused).toEqual({ status: 400, body: expect.objectContaining({ error: 'invalid_grant' }) });
  });

  it('signs out with signoutRedirect: the end-session page confirms, the app gets its page back, the session is over', async () => {
    await page.goto(`${clientOrigin}/`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${publicUrl}/**`);
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.waitForURL(`${clientOrigin}/signed-out**`);
    expect(await page.locator('#status').textContent()).toBe('signed out');
    expect(await user()).toBeNull();
    // The provider's session is gone too: signing in again asks for the password.
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${publicUrl}/**`);
    expect(await page.getByLabel('Password').count()).toBe(1);
    expect(pageErrors).toEqual([]);
  });
});
