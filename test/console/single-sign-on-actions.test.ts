import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { TestIdp } from '../sso/support.js';
import {
  type AdminSession,
  consoleTestWithIdp,
  openSingleSignOn,
  SIZE_NAMES,
  type Size,
} from '../support/console.js';
import { databaseKinds } from '../support/databases.js';
import { newRep, REPS_URL } from '../support/fixtures.js';

vi.setConfig({ testTimeout: 90_000, hookTimeout: 120_000 });

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
  const { c, idp } = consoleTestWithIdp(kind);
  let okta: TestIdp;
  beforeAll(() => {
    okta = idp();
  });

  /** A setup link made through the API, as "Create setup link" makes it. */
  const setupLink = async (admin: AdminSession) =>
    (await admin.read<{ url: string }>('POST', '/api/organizations/sso/setup-links', {})).url;

  it('without a connection there is no "Test sign-in"; "Create setup link" shows the link once, its expiry and a warning', async () => {
    const admin = await c.signedInAdmin();
    const page = admin.pages.phone;
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
    expect(shown).toMatch(new RegExp(`^${c.publicUrl}/sso/setup/[A-Za-z0-9_-]{43}$`));
    await panel.getByRole('button', { name: 'Copy the Setup link' }).click();
    await panel.getByRole('status').filter({ hasText: 'Copied.' }).waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(shown);
    await c.expectFits(page, 'phone');
    await c.expectAccessible(page, 'phone-single-sign-on-setup-link');

    const desktop = admin.pages.desktop;
    await openSingleSignOn(desktop);
    const desktopPanel = desktop.getByRole('region', { name: 'Setup link for your IT admin' });
    await desktopPanel.getByRole('button', { name: 'Create setup link' }).click();
    await desktopPanel.getByText('(in 24 hours)', { exact: false }).waitFor();
    expect(await desktopPanel.locator('dl.values code').textContent()).toMatch(/\/sso\/setup\//);
    await c.expectAccessible(desktop, 'desktop-single-sign-on-setup-link');
    // The phone's link, made before, no longer works: a new link voids the earlier unused ones.
    const voided = await desktop.request.get(shown as string);
    expect(voided.status()).toBe(410);
  });

  it('the link, opened in a browser without a console session, shows the setup page; saving through it connects the IdP', async () => {
    const admin = await c.signedInAdmin();
    const setupUrl = await setupLink(admin);
    for (const size of ['phone', 'desktop'] as Size[]) {
      const page = await c.newPage(size);
      await page.goto(setupUrl);
      await page.getByRole('heading', { name: 'Set up single sign-on' }).waitFor();
      await page.getByText('Acme Supply').first().waitFor();
      await c.expectFits(page, size);
      await c.expectAccessible(page, `${size}-single-sign-on-setup-page`);
      if (size === 'desktop') {
        await page.getByLabel('OpenID Connect', { exact: true }).check();
        await page.getByLabel('Issuer URL').fill(okta.issuer);
        await page.getByLabel('Client ID').fill(okta.clientId);
        await page.getByLabel('Client secret').fill(okta.clientSecret);
        await page.getByLabel('Email domains').fill(admin.domain);
        await page.getByRole('button', { name: 'Save the connection' }).click();
        await page.getByRole('heading', { name: 'Single sign-on is set up' }).waitFor();
        await c.expectAccessible(page, 'desktop-single-sign-on-setup-saved');
      }
      await page.context().close();
    }
    expect((await admin.api('GET', '/api/organizations/sso')).json()).toMatchObject({
      protocol: 'oidc',
      issuer: okta.issuer,
      clientId: okta.clientId,
      domains: [admin.domain],
    });
    // The console reads the connection afresh on the next visit of the page.
    const page = admin.pages.desktop;
    await page.getByRole('link', { name: 'Sales reps' }).click();
    await openSingleSignOn(page);
    await page.getByRole('heading', { name: 'Connected with OpenID Connect' }).waitFor();
    expect(await page.locator('main').textContent()).toContain(okta.issuer);
  });

  it('"Test sign-in" opens a new tab through the IdP\u2019s login to the page of what it sent and whom it would sign in', async () => {
    const admin = await c.signedInAdmin();
    await admin.connectOidc(okta);
    const repEmail = `wile@${admin.domain}`;
    const added = await admin.api('PUT', REPS_URL, newRep({ email: repEmail }));
    expect(added.statusCode, added.body).toBe(200);
    await c.accountMade(repEmail);
    okta.people.set('okta-wile', { email: repEmail, emailVerified: true });
    const signIns = async () =>
      ((await admin.api('GET', '/api/organizations/events?action=sign_in.succeeded')).json() as unknown[])
        .length;
    const signInsBefore = await signIns();

    for (const size of SIZE_NAMES) {
      const page = admin.pages[size];
      await openSingleSignOn(page);
      const panel = page.getByRole('region', { name: 'Test sign-in' });
      await panel.getByText('Nobody is signed in here', { exact: false }).waitFor();
      await c.expectFits(page, size);
      await c.expectAccessible(page, `${size}-single-sign-on-test-sign-in`);
      const button = panel.getByRole('button', { name: 'Test sign-in' });
      expect(await button.getAttribute('aria-describedby')).toBe('sso-test-hint');
      // Keyboard only: Enter on the button opens the tab.
      await button.focus();
      const [tab] = await Promise.all([page.context().waitForEvent('page'), page.keyboard.press('Enter')]);
      c.watch(tab);
      await tab.locator('input[name="login"]').waitFor();
      expect(new URL(tab.url()).origin).toBe(okta.issuer);
      expect(await tab.evaluate('window.opener')).toBeNull();
      await tab.locator('input[name="login"]').fill('okta-wile');
      await tab.locator('input[name="password"]').fill('the IdP checks its own passwords');
      await tab.getByRole('button', { name: 'Sign-in' }).click();
      await tab.getByRole('heading', { name: 'Test sign-in', level: 1 }).waitFor();
      expect(new URL(tab.url()).origin).toBe(c.publicUrl);
      const result = (await tab.locator('body').textContent()) as string;
      expect(result).toContain('It would sign in');
      expect(result).toContain(repEmail);
      expect(result).toContain('okta-wile');
      await c.expectFits(tab, size);
      await c.expectAccessible(tab, `${size}-single-sign-on-test-result`);
      await tab.close();
      // The console's tab kept its session.
      await page.getByRole('heading', { name: 'Connected with OpenID Connect' }).waitFor();
    }
    // Nobody was signed in by the test.
    expect(await signIns()).toBe(signInsBefore);
  });
});
