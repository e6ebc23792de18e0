import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createOrganization } from '../../src/organizations/service.js';
import { IDP_KEYS, testIdp as samlTestIdp } from '../sso/saml/support.js';
import type { TestIdp } from '../sso/support.js';
import {
  type AdminSession,
  consoleTestWithIdp,
  deactivateThroughMenu,
  openSingleSignOn,
  SIZE_NAMES,
} from '../support/console.js';
import { databaseKinds } from '../support/databases.js';

vi.setConfig({ testTimeout: 90_000, hookTimeout: 120_000 });

/**
 * A newcomer's journey through the console's "Single sign-on" page in Chromium, at 1280 × 800 and 360 × 740: an
 * Admin connects the organization's IdP (a second, independent OpenID provider started here, playing Okta) with the
 * values the page gives to copy, adds a rep in the console; the rep signs in at the IdP (its own login page) and
 * sees its customers; a person the organization never added and a deactivated rep are refused with the service's
 * page. Then a SAML IdP's metadata is pasted, and the connection removed after its confirmation. axe-core on every
 * state shown.
 *
 * The service is at `localhost` and the IdP at `127.0.0.1`: both are OpenID providers with cookies of the same
 * names, which a browser would share between two ports of one host.
 */
describe.each(databaseKinds)('the console\u2019s single sign-on on %s', (kind) => {
  const { c, idp } = consoleTestWithIdp(kind);
  let okta: TestIdp;
  beforeAll(async () => {
    okta = idp();
    // Another organization's connection already serves globex.example.
    await createOrganization(c.database.db, { name: 'Globex Supply', identityOrganizationId: 'org_globex' });
    const globex = await c.service.app.inject({
      method: 'PUT',
      url: '/api/organizations/sso',
      headers: { authorization: `Bearer ${await c.adminToken('org_globex', 'globex_admin')}` },
      payload: {
        protocol: 'oidc',
        issuer: okta.issuer,
        clientId: okta.clientId,
        clientSecret: okta.clientSecret,
        domains: ['globex.example'],
      },
    });
    expect(globex.statusCode, globex.body).toBe(200);
  });

  /** The admin's organization connected to the IdP through the API, for its own domain. */
  const connect = (admin: AdminSession) => admin.connectOidc(okta);

  /**
   * Within the console at 360 px (a reload would sign the admin in again, at the IdP), the page shows the
   * connection whole and accessible.
   */
  const phoneShows = async (phone: Page, heading: string, screenshot: string) => {
    await phone.getByRole('link', { name: 'Sales reps' }).click();
    await openSingleSignOn(phone);
    await phone.getByRole('heading', { name: heading }).waitFor();
    await c.expectFits(phone, 'phone');
    await c.expectAccessible(phone, screenshot);
  };

  /** Wile Coyote (REP-001), added through the API, once the identity effect has made its account. */
  const addWile = async (admin: AdminSession) => {
    const wile = await admin.addRep('REP-001', 'Wile', 'Coyote');
    await c.accountMade(wile.email);
    return wile;
  };

  /**
   * A person opens the console in a browser of its own, types its email on the service's sign-in page with the
   * password left empty, and signs in at the IdP's own login page as `subject`.
   */
  const signInThroughIdp = async (email: string, subject: string) => {
    const page = await c.newPage();
    await page.goto(`${c.publicUrl}/console/`);
    await c.submitSignIn(page, email);
    // The IdP's development login form.
    await page.locator('input[name="login"]').waitFor();
    expect(new URL(page.url()).origin).toBe(okta.issuer);
    await page.locator('input[name="login"]').fill(subject);
    await page.locator('input[name="password"]').fill('the IdP checks its own passwords');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    return page;
  };

  describe.each(SIZE_NAMES)('at the %s size', (size) => {
    it('before any connection, the page says so and gives the redirect URI to register, with a copy button', async () => {
      const admin = await c.signedInAdmin();
      const page = admin.pages[size];
      await openSingleSignOn(page);
      await page.getByRole('heading', { name: 'Not connected' }).waitFor();
      const redirectUri = `${c.publicUrl}/signin/sso/callback`;
      const values = page.locator('dl.values');
      expect(await values.locator('dt').allTextContents()).toEqual(['Redirect URI']);
      expect(await values.locator('code').allTextContents()).toEqual([redirectUri]);
      // Keyboard only: the copy button with Enter, the protocol with the arrow keys.
      await page.getByRole('button', { name: 'Copy the Redirect URI' }).focus();
      await page.keyboard.press('Enter');
      await values.getByRole('status').filter({ hasText: 'Copied.' }).waitFor();
      expect(await page.evaluate('navigator.clipboard.readText()')).toBe(redirectUri);
      // SAML's values are the connection's own: the page says they come once it is saved.
      await page.getByLabel('OpenID Connect', { exact: false }).focus();
      await page.keyboard.press('ArrowDown');
      expect(await page.getByLabel('SAML 2.0').isChecked()).toBe(true);
      await page.getByText('connect first with your identity provider', { exact: false }).waitFor();
      expect(await page.locator('dl.values').count()).toBe(0);
      await page.keyboard.press('ArrowUp');
      expect(await page.getByLabel('OpenID Connect', { exact: false }).isChecked()).toBe(true);
      await c.expectFits(page, size);
      await c.expectAccessible(page, `${size}-single-sign-on-not-connected`);
    });
  });

  it('the form says what is wrong in plain words: empty fields, an unusable issuer, a bad or taken domain', async () => {
    const admin = await c.signedInAdmin();
    const page = admin.pages.desktop;
    await openSingleSignOn(page);
    const form = page.getByRole('form', { name: 'Connect your identity provider' });
    // Keyboard only: Enter in a field submits the form.
    await form.getByLabel('Issuer').focus();
    await page.keyboard.press('Enter');
    await form.getByRole('alert').filter({ hasText: 'correct the fields marked' }).waitFor();
    expect(await form.getByLabel('Issuer').getAttribute('aria-invalid')).toBe('true');
    await form.getByText('Enter the issuer, like https://acme.okta.com').waitFor();
    await form.getByText('Enter the client ID').waitFor();
    await form.getByText('Enter the client secret').waitFor();

    // Nothing answers there: the service's own check of the issuer, behind the field.
    await form.getByLabel('Issuer').fill('http://127.0.0.1:1');
    await form.getByLabel('Client ID').fill(okta.clientId);
    await form.getByLabel('Client secret').fill(okta.clientSecret);
    await form.getByLabel('Email domains').fill(admin.domain);
    await form.getByRole('button', { name: 'Connect' }).click();
    await form.getByText('The service could not use this issuer: its discovery document').waitFor();
    await form.getByLabel('Issuer').fill('not an address');
    await form.getByRole('button', { name: 'Connect' }).click();
    await form.getByText('Enter the issuer as a whole address, like https://acme.okta.com').waitFor();

    await form.getByLabel('Issuer').fill(okta.issuer);
    await form.getByLabel('Email domains').fill(`${admin.domain}, acme-example`);
    await form.getByRole('button', { name: 'Connect' }).click();
    await form
      .getByText('"acme-example" is not an email domain: enter domains like acme.com, separated by commas')
      .waitFor();
    expect(await form.getByLabel('Email domains').getAttribute('aria-invalid')).toBe('true');
    // The API's schema words ("must match …") are not shown.
    expect(await form.textContent()).not.toContain('must ');

    await form.getByLabel('Email domains').fill(`${admin.domain}, globex.example`);
    await form.getByRole('button', { name: 'Connect' }).click();
    // The 409 is said beside the domains, with what to do.
    await form
      .getByText(
        'Another organization\'s connection serves "globex.example". A domain can be one organization\'s only: leave it out.',
      )
      .waitFor();
    expect(await form.getByLabel('Email domains').getAttribute('aria-invalid')).toBe('true');
    await c.expectAccessible(page, 'desktop-single-sign-on-errors');
    // Nothing was stored.
    expect((await admin.api('GET', '/api/organizations/sso')).statusCode).toBe(404);
  });

  it('the Admin connects the IdP: the connection is shown, never the secret', async () => {
    const admin = await c.signedInAdmin();
    const page = admin.pages.desktop;
    await openSingleSignOn(page);
    const form = page.getByRole('form', { name: 'Connect your identity provider' });
    await form.getByLabel('Issuer').fill(okta.issuer);
    await form.getByLabel('Client ID').fill(okta.clientId);
    await form.getByLabel('Client secret').fill(okta.clientSecret);
    await form.getByLabel('Email domains').fill(admin.domain);
    await form.getByLabel('Email domains').focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Connected with OpenID Connect' }).waitFor();
    await page.getByRole('status').filter({ hasText: 'Single sign-on is connected.' }).waitFor();
    // The focus is on what changed, not lost with the form that was made afresh.
    expect(await page.evaluate('document.activeElement.id')).toBe('sso-status');
    const shown = await page.locator('main').textContent();
    expect(shown).toContain(okta.issuer);
    expect(shown).toContain(okta.clientId);
    expect(shown).toContain('Off: your people sign in only through the identity provider');
    expect(shown).not.toContain(okta.clientSecret);
    const changeForm = page.getByRole('form', { name: 'Change the connection' });
    expect(await changeForm.getByLabel('Client secret').inputValue()).toBe('');
    expect(await changeForm.getByLabel('Issuer').inputValue()).toBe(okta.issuer);
    expect((await admin.api('GET', '/api/organizations/sso')).json()).toMatchObject({
      protocol: 'oidc',
      issuer: okta.issuer,
      clientId: okta.clientId,
      domains: [admin.domain],
      passwordSignIn: false,
    });
    await c.expectAccessible(page, 'desktop-single-sign-on-connected');

    // Within the console: a reload would sign the admin in again, now at the IdP (acme.example is its domain).
    const phone = admin.pages.phone;
    await phoneShows(phone, 'Connected with OpenID Connect', 'phone-single-sign-on-connected');
  });

  it('the Admin adds a rep in the console; the rep signs in at the IdP and sees its customers', async () => {
    const admin = await c.signedInAdmin();
    const page = admin.pages.desktop;
    await connect(admin);
    const repEmail = `wile@${admin.domain}`;
    await page.getByRole('button', { name: 'Add sales rep' }).click();
    const form = page.getByRole('dialog', { name: 'Add sales rep' });
    await form.getByLabel('First name').fill('Wile');
    await form.getByLabel('Last name').fill('Coyote');
    await form.getByLabel('Email').fill(repEmail);
    await form.getByLabel('Rep number').fill('REP-001');
    await form.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Wile Coyote was added' }).waitFor();
    for (const [customerNumber, companyName, repNumber] of [
      ['C-1', 'Northwind Traders', 'REP-001'],
      ['C-2', 'Contoso', 'REP-002'],
      ['C-3', 'Fabrikam', 'REP-001'],
    ]) {
      await admin.read('PUT', '/api/customers', { customerNumber, companyName, repNumber });
    }
    await c.accountMade(repEmail);

    okta.people.set(`okta-${repEmail}`, { email: repEmail, emailVerified: true });
    const rep = await signInThroughIdp(repEmail, `okta-${repEmail}`);
    await rep.getByRole('heading', { name: 'My customers' }).waitFor();
    expect(new URL(rep.url()).origin).toBe(c.publicUrl);
    await rep.getByText(`Signed in as ${repEmail}`).waitFor();
    await rep.getByText('1–2 of 2').waitFor();
    const shown = rep
      .getByRole('region', { name: 'Customers' })
      .getByRole('button', { name: /^Show customer / });
    expect(await shown.allTextContents()).toEqual(['Show customer C-1', 'Show customer C-3']);
    await rep.context().close();
  });

  it('a person the organization never added signs in at the IdP and gets the service\u2019s page saying so', async () => {
    const admin = await c.signedInAdmin();
    await connect(admin);
    const email = `stranger@${admin.domain}`;
    okta.people.set(`okta-${email}`, { email, emailVerified: true });
    const stranger = await signInThroughIdp(email, `okta-${email}`);
    await stranger.getByRole('heading', { name: 'No access' }).waitFor();
    expect(new URL(stranger.url()).origin).toBe(c.publicUrl);
    await stranger.getByText('Your organization has not given you access here.', { exact: false }).waitFor();
    // No code for the console: the browser stays on the service's page.
    expect(new URL(stranger.url()).pathname).not.toMatch(/^\/console/);
    await c.expectAccessible(stranger, 'desktop-single-sign-on-stranger-refused');
    await stranger.context().close();
  });

  it('a rep deactivated in the console is refused at its next sign-in through the IdP', async () => {
    const admin = await c.signedInAdmin();
    const page = admin.pages.desktop;
    const wile = await addWile(admin);
    okta.people.set(`okta-${wile.email}`, { email: wile.email, emailVerified: true });
    // Shown before the connection: a reload after it would sign the admin in again, at the IdP.
    await page.reload();
    await page.getByRole('cell', { name: 'REP-001' }).waitFor();
    await connect(admin);
    await deactivateThroughMenu(page, 'Wile Coyote');
    await page.getByRole('status').filter({ hasText: 'Deactivated Wile Coyote (REP-001).' }).waitFor();

    const rep = await signInThroughIdp(wile.email, `okta-${wile.email}`);
    await rep.getByRole('heading', { name: 'No access' }).waitFor();
    expect(new URL(rep.url()).origin).toBe(c.publicUrl);
    await rep.getByText('it may have been deactivated or removed', { exact: false }).waitFor();
    expect(new URL(rep.url()).pathname).not.toMatch(/^\/console/);
    await rep.context().close();
  });

  it("a SAML IdP's metadata, pasted, connects it; the page then gives the entity ID, ACS URL and metadata URL", async () => {
    const entra = samlTestIdp({
      entityId: 'https://sts.windows.net/8f1c3c4e-1f7a-4a4e-9c55-0d1f3b0b7a11/',
      ssoUrl: 'https://login.microsoftonline.com/8f1c3c4e-1f7a-4a4e-9c55-0d1f3b0b7a11/saml2',
      keys: IDP_KEYS.entra,
    });
    const admin = await c.signedInAdmin();
    const page = admin.pages.desktop;
    await connect(admin);
    await openSingleSignOn(page);
    const form = page.getByRole('form', { name: 'Change the connection' });
    await form.getByLabel('SAML 2.0').check();
    await form.getByLabel('The XML document, pasted').check();
    await form.getByLabel('Metadata XML').fill('<EntityDescriptor/>');
    await form.getByRole('button', { name: 'Save changes' }).click();
    await form.getByText('The service could not use this metadata:', { exact: false }).waitFor();
    await form.getByLabel('Metadata XML').fill(entra.metadata());
    await form.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: 'Connected with SAML 2.0' }).waitFor();
    const connection = (await admin.api('GET', '/api/organizations/sso')).json();
    expect(connection).toMatchObject({
      protocol: 'saml',
      idpEntityId: 'https://sts.windows.net/8f1c3c4e-1f7a-4a4e-9c55-0d1f3b0b7a11/',
    });
    const values = page.locator('dl.values');
    expect(await values.locator('dt').allTextContents()).toEqual(['Entity ID', 'ACS URL', 'SP metadata URL']);
    expect(await values.locator('code').allTextContents()).toEqual([
      connection.spEntityId,
      connection.acsUrl,
      connection.spMetadataUrl,
    ]);
    expect(connection.acsUrl).toMatch(new RegExp(`^${c.publicUrl}/signin/sso/saml/[^/]+/acs$`));
    await page.getByRole('button', { name: 'Copy the ACS URL' }).click();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(connection.acsUrl);
    // What the IdP reads at the metadata URL names the same ACS URL.
    const metadata = await page.request.get(connection.spMetadataUrl);
    expect(metadata.status()).toBe(200);
    expect(await metadata.text()).toContain(connection.acsUrl);
    await c.expectAccessible(page, 'desktop-single-sign-on-saml');

    const phone = admin.pages.phone;
    await phoneShows(phone, 'Connected with SAML 2.0', 'phone-single-sign-on-saml');
  });

  it('removing asks first, saying what changes for the people, and then the page is back to "Not connected"', async () => {
    const admin = await c.signedInAdmin();
    const phone = admin.pages.phone;
    await connect(admin);
    await openSingleSignOn(phone);
    await phone.getByRole('button', { name: 'Remove single sign-on' }).click();
    const dialog = phone.getByRole('dialog', { name: 'Remove single sign-on?' });
    await dialog.getByText('your people sign in with their password here', { exact: false }).waitFor();
    await dialog
      .getByText('People who never set a password here cannot sign in until they set one', { exact: false })
      .waitFor();
    await c.expectFits(phone, 'phone');
    await c.expectAccessible(phone, 'phone-single-sign-on-remove');
    // Escape keeps the connection.
    await phone.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect((await admin.api('GET', '/api/organizations/sso')).statusCode).toBe(200);

    await phone.getByRole('button', { name: 'Remove single sign-on' }).click();
    await dialog.getByRole('button', { name: 'Remove single sign-on' }).click();
    await phone.getByRole('heading', { name: 'Not connected' }).waitFor();
    await phone.getByRole('status').filter({ hasText: 'Single sign-on is removed.' }).waitFor();
    expect((await admin.api('GET', '/api/organizations/sso')).statusCode).toBe(404);
  });
});
