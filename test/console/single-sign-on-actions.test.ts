import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createService, type Service } from '../../src/main.js';
import { createOrganization } from '../../src/organizations/service.js';
import type { Signin } from '../../src/signin/runtime.js';
import { eventually } from '../effects/support/wait.js';
import { startTestIdp, type TestIdp } from '../sso/support.js';
import { launchChromium, violations } from '../support/browser.js';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../support/databases.js';
import { newRep, REPS_URL } from '../support/fixtures.js';
import { freePort } from '../support/ports.js';

vi.setConfig({ testTimeout: 90_000, hookTimeout: 120_000 });

const PASSWORD = 'granite orchard whistle 58';
const ADMIN_EMAIL = 'ada@acme.example';
const REP_EMAIL = 'wile@acme.example';
const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS;
const SIZES = { desktop: { width: 1280, height: 800 }, phone: { width: 360, height: 740 } } as const;
type Size = keyof typeof SIZES;

/**
 * The "Single sign-on" page's two actions in Chromium, at 1280 × 800 and 360 × 740: "Create setup link" shows a
 * single-use link once, which an IT admin without an account opens in a browser of its own and saves the
 * connection through (the page shows it then); "Test sign-in" opens a new tab that goes through the IdP's login
 * (a second, independent OpenID provider started here) to the service's page of what the IdP sent and whom it
 * would sign in. axe-core on every state shown.
 *
 * The service is at `localhost` and the IdP at `127.0.0.1`, as in the page's own journey test.
 */
describe.each(databaseKinds)('the console\u2019s single sign-on actions on %s', (kind) => {
  let browser: Browser;
  let service: Service;
  let database: TestDatabase;
  let dataDir: string;
  let publicUrl: string;
  let okta: TestIdp;
  let adminToken: string;
  const pages = {} as Record<Size, Page>;
  const scriptErrors: string[] = [];
  let setupUrl = '';

  const watch = (page: Page) => {
    page.on('pageerror', (error) => scriptErrors.push(`${page.url()}: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
        scriptErrors.push(`${page.url()}: ${message.text()}`);
      }
    });
  };

  const expectAccessible = async (page: Page, name: string) => {
    expect(await violations(page), name).toEqual([]);
    if (SCREENSHOTS && kind === 'pglite') {
      await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
    }
  };

  const expectFits = async (page: Page, size: Size) =>
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(
      SIZES[size].width,
    );

  const api = (method: 'GET' | 'PUT', url: string, payload?: object) =>
    service.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${adminToken}` },
      ...(payload ? { payload } : {}),
    });

  const signInWithPassword = async (page: Page) => {
    await page.goto(`${publicUrl}/console/`);
    await page.getByLabel('Email').fill(ADMIN_EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Sales reps' }).waitFor();
  };

  const openSingleSignOn = async (page: Page) => {
    await page
      .getByRole('navigation', { name: 'Console' })
      .getByRole('link', { name: 'Single sign-on' })
      .click();
    await page.getByRole('heading', { name: 'Single sign-on', level: 1 }).waitFor();
  };

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'salesreps-console-sso-actions-'));
    const port = await freePort();
    publicUrl = `http://localhost:${port}`;
    okta = await startTestIdp({ redirectUri: `${publicUrl}/signin/sso/callback` });
    database = await openTestDatabase(kind);
    service = await createService(
      loadConfig({
        DATA_DIR: dataDir,
        HOST: '127.0.0.1',
        PORT: String(port),
        PUBLIC_URL: publicUrl,
        PASSWORD_SCRYPT_LOG2_N: '14',
        EFFECTS_POLL_MS: '20',
        // The test IdP is on this machine, over http.
        SSO_ALLOW_PRIVATE_NETWORKS: 'true',
      }),
      { database, log: false },
    );
    await service.app.listen({ host: '127.0.0.1', port });
    await createOrganization(database.db, { name: 'Acme Supply', identityOrganizationId: 'org_acme' });
    const issuer = service.localIssuer as NonNullable<Service['localIssuer']>;
    adminToken = await issuer.sign(
      { userId: 'admin_setup', organization: 'org_acme', roles: ['Admin'] },
      600,
    );
    const { link } = await (service.signin as Signin).inviteAdmin({
      identityOrganizationId: 'org_acme',
      email: ADMIN_EMAIL,
    });
    browser = await launchChromium();
    for (const size of Object.keys(SIZES) as Size[]) {
      const context = await browser.newContext({
        viewport: SIZES[size],
        permissions: ['clipboard-read', 'clipboard-write'],
      });
      pages[size] = await context.newPage();
      watch(pages[size]);
    }
    await pages.desktop.goto(link as string);
    await pages.desktop.getByLabel('Password').fill(PASSWORD);
    await pages.desktop.getByRole('button', { name: 'Set password' }).click();
    await pages.desktop.getByRole('heading', { name: 'Password set' }).waitFor();
    // Both signed in before acme.example goes to the IdP.
    await signInWithPassword(pages.desktop);
    await signInWithPassword(pages.phone);
  });
  afterAll(async () => {
    await browser?.close();
    await service?.close();
    await okta?.close();
    await database?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('without a connection there is no "Test sign-in"; "Create setup link" shows the link once, its expiry and a warning', async () => {
    const page = pages.phone;
    await openSingleSignOn(page);
    await page.getByRole('heading', { name: 'Not connected' }).waitFor();
    expect(await page.getByRole('button', { name: 'Test sign-in' }).count()).toBe(0);
    const panel = page.getByRole('region', { name: 'Setup link for your IT admin' });
    await panel.getByText('Anyone who has the link can set the connection', { exact: false }).waitFor();
    await panel.getByText('A new link stops earlier unused ones from working.', { exact: false }).waitFor();
    // Keyboard only: the duration chosen with the arrow keys, the button with Enter.
    await panel.getByLabel('Works for').focus();
    await page.keyboard.press('ArrowDown');
    expect(await panel.getByLabel('Works for').inputValue()).toBe('72');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await panel.getByText('Copy the link now: it is not shown again.').waitFor();
    await panel.getByText('(in 3 days)', { exact: false }).waitFor();
    const shown = await panel.locator('dl.values code').textContent();
    expect(shown).toMatch(new RegExp(`^${publicUrl}/sso/setup/[A-Za-z0-9_-]{43}$`));
    await panel.getByRole('button', { name: 'Copy the Setup link' }).click();
    await panel.getByRole('status').filter({ hasText: 'Copied.' }).waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(shown);
    await expectFits(page, 'phone');
    await expectAccessible(page, 'phone-single-sign-on-setup-link');

    const desktop = pages.desktop;
    await openSingleSignOn(desktop);
    const desktopPanel = desktop.getByRole('region', { name: 'Setup link for your IT admin' });
    await desktopPanel.getByRole('button', { name: 'Create setup link' }).click();
    await desktopPanel.getByText('(in 24 hours)', { exact: false }).waitFor();
    setupUrl = (await desktopPanel.locator('dl.values code').textContent()) as string;
    await expectAccessible(desktop, 'desktop-single-sign-on-setup-link');
    // The phone's link, made before, no longer works: a new link voids the earlier unused ones.
    const voided = await desktop.request.get(shown as string);
    expect(voided.status()).toBe(410);
  });

  it('the link, opened in a browser without a console session, shows the setup page; saving through it connects the IdP', async () => {
    for (const size of ['phone', 'desktop'] as Size[]) {
      const context = await browser.newContext({ viewport: SIZES[size] });
      const page = await context.newPage();
      watch(page);
      await page.goto(setupUrl);
      await page.getByRole('heading', { name: 'Set up single sign-on' }).waitFor();
      await page.getByText('Acme Supply').first().waitFor();
      await expectFits(page, size);
      await expectAccessible(page, `${size}-single-sign-on-setup-page`);
      if (size === 'desktop') {
        await page.getByLabel('OpenID Connect', { exact: true }).check();
        await page.getByLabel('Issuer URL').fill(okta.issuer);
        await page.getByLabel('Client ID').fill(okta.clientId);
        await page.getByLabel('Client secret').fill(okta.clientSecret);
        await page.getByLabel('Email domains').fill('acme.example');
        await page.getByRole('button', { name: 'Save the connection' }).click();
        await page.getByRole('heading', { name: 'Single sign-on is set up' }).waitFor();
        await expectAccessible(page, 'desktop-single-sign-on-setup-saved');
      }
      await context.close();
    }
    expect((await api('GET', '/api/organizations/sso')).json()).toMatchObject({
      protocol: 'oidc',
      issuer: okta.issuer,
      clientId: okta.clientId,
      domains: ['acme.example'],
    });
    // The console reads the connection afresh on the next visit of the page.
    const page = pages.desktop;
    await page.getByRole('link', { name: 'Sales reps' }).click();
    await openSingleSignOn(page);
    await page.getByRole('heading', { name: 'Connected with OpenID Connect' }).waitFor();
    expect(await page.locator('main').textContent()).toContain(okta.issuer);
  });

  it('"Test sign-in" opens a new tab through the IdP\u2019s login to the page of what it sent and whom it would sign in', async () => {
    const added = await api('PUT', REPS_URL, newRep({ email: REP_EMAIL }));
    expect(added.statusCode, added.body).toBe(200);
    // The rep's account is made by the identity effect, a moment after.
    await eventually(async () => {
      const membership = await database.db
        .selectFrom('idp_membership')
        .innerJoin('idp_account', 'idp_account.id', 'idp_membership.account_id')
        .select('idp_membership.account_id')
        .where('idp_account.email', '=', REP_EMAIL)
        .executeTakeFirst();
      if (!membership) throw new Error('no membership yet');
    });
    okta.people.set('okta-wile', { email: REP_EMAIL, emailVerified: true });
    const signIns = async () =>
      ((await api('GET', '/api/organizations/events?action=sign_in.succeeded')).json() as unknown[]).length;
    const signInsBefore = await signIns();

    for (const size of Object.keys(SIZES) as Size[]) {
      const page = pages[size];
      if (size === 'phone') {
        await page.getByRole('link', { name: 'Sales reps' }).click();
        await openSingleSignOn(page);
      }
      const panel = page.getByRole('region', { name: 'Test sign-in' });
      await panel.getByText('Nobody is signed in here', { exact: false }).waitFor();
      await expectFits(page, size);
      await expectAccessible(page, `${size}-single-sign-on-test-sign-in`);
      const button = panel.getByRole('button', { name: 'Test sign-in' });
      expect(await button.getAttribute('aria-describedby')).toBe('sso-test-hint');
      // Keyboard only: Enter on the button opens the tab.
      await button.focus();
      const [tab] = await Promise.all([page.context().waitForEvent('page'), page.keyboard.press('Enter')]);
      watch(tab);
      await tab.locator('input[name="login"]').waitFor();
      expect(new URL(tab.url()).origin).toBe(okta.issuer);
      expect(await tab.evaluate('window.opener')).toBeNull();
      await tab.locator('input[name="login"]').fill('okta-wile');
      await tab.locator('input[name="password"]').fill('the IdP checks its own passwords');
      await tab.getByRole('button', { name: 'Sign-in' }).click();
      await tab.getByRole('heading', { name: 'Test sign-in', level: 1 }).waitFor();
      expect(new URL(tab.url()).origin).toBe(publicUrl);
      const result = (await tab.locator('body').textContent()) as string;
      expect(result).toContain('It would sign in');
      expect(result).toContain(REP_EMAIL);
      expect(result).toContain('okta-wile');
      await expectFits(tab, size);
      await expectAccessible(tab, `${size}-single-sign-on-test-result`);
      await tab.close();
      // The console's tab kept its session.
      await page.getByRole('heading', { name: 'Connected with OpenID Connect' }).waitFor();
    }
    // Nobody was signed in by the test.
    expect(await signIns()).toBe(signInsBefore);
    expect(scriptErrors).toEqual([]);
  });
});
