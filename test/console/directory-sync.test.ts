import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createService, type Service } from '../../src/main.js';
import { createOrganization } from '../../src/organizations/service.js';
import type { Signin } from '../../src/signin/runtime.js';
import { oktaUser } from '../scim/support.js';
import { launchChromium, violations } from '../support/browser.js';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../support/databases.js';
import { freePort } from '../support/ports.js';

vi.setConfig({ testTimeout: 90_000, hookTimeout: 120_000 });

const PASSWORD = 'amber orchard signal 58';
const ADMIN_EMAIL = 'grace@acme.example';
const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS;
const SIZES = { desktop: { width: 1280, height: 800 }, phone: { width: 360, height: 740 } } as const;
type Size = keyof typeof SIZES;

/**
 * The console's "Directory sync" page, as an Admin uses it in Chromium at 1280 × 800 and 360 × 740: the SCIM base
 * URL to copy, a token created and shown once, the directory's last request and its outcome, a revocation that asks
 * first. By keyboard where a person would use it so; axe-core on every state shown.
 */
describe.each(databaseKinds)('the console\u2019s directory sync page on %s', (kind) => {
  let browser: Browser;
  let service: Service;
  let database: TestDatabase;
  let dataDir: string;
  let publicUrl: string;
  const pages = {} as Record<Size, Page>;
  const scriptErrors: string[] = [];
  let token = '';

  const expectAccessible = async (page: Page, name: string) => {
    expect(await violations(page), name).toEqual([]);
    if (SCREENSHOTS && kind === 'pglite') {
      await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
    }
  };

  /** A SCIM request as the directory sends it, over HTTP. */
  const scim = (method: string, resource: string, bearer: string, body?: unknown) =>
    fetch(`${publicUrl}/scim/v2${resource}`, {
      method,
      headers: {
        authorization: `Bearer ${bearer}`,
        ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  const signIn = async (page: Page) => {
    await page.goto(`${publicUrl}/console/`);
    await page.getByLabel('Email').fill(ADMIN_EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Sales reps' }).waitFor();
  };

  const openPage = async (page: Page) => {
    await page.getByRole('link', { name: 'Directory sync' }).click();
    await page.getByRole('heading', { name: 'Directory sync', level: 1 }).waitFor();
  };

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'salesreps-directory-sync-'));
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    database = await openTestDatabase(kind);
    service = await createService(
      loadConfig({ DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: String(port), PASSWORD_SCRYPT_LOG2_N: '14' }),
      { database, log: false },
    );
    await service.app.listen({ host: '127.0.0.1', port });
    await createOrganization(database.db, { name: 'Acme Supply', identityOrganizationId: 'org_acme' });
    const { link } = await (service.signin as Signin).inviteAdmin({
      identityOrganizationId: 'org_acme',
      email: ADMIN_EMAIL,
    });
    browser = await launchChromium();
    for (const size of Object.keys(SIZES) as Size[]) {
      const context = await browser.newContext({ viewport: SIZES[size] });
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: publicUrl });
      const page = await context.newPage();
      page.on('pageerror', (error) => scriptErrors.push(`${page.url()}: ${error.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
          scriptErrors.push(`${page.url()}: ${message.text()}`);
        }
      });
      pages[size] = page;
    }
    await pages.desktop.goto(link as string);
    await pages.desktop.getByLabel('Password').fill(PASSWORD);
    await pages.desktop.getByRole('button', { name: 'Set password' }).click();
    await signIn(pages.desktop);
    await signIn(pages.phone);
  });
  afterAll(async () => {
    await browser?.close();
    await service?.close();
    await database?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('shows the SCIM base URL to copy, and says there are no tokens yet', async () => {
    const page = pages.desktop;
    await openPage(page);
    const baseUrl = page.getByLabel('SCIM base URL');
    expect(await baseUrl.inputValue()).toBe(`${publicUrl}/scim/v2`);
    await page.getByRole('button', { name: 'Copy base URL' }).click();
    await page.getByText('The base URL is copied.').waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(`${publicUrl}/scim/v2`);
    await page.getByText('No tokens yet. Create one for your directory with "Create token".').waitFor();
    await expectAccessible(page, 'desktop-directory-sync-empty');
  });

  it('creates a token by keyboard and shows it once, with a copy button and the warning', async () => {
    const page = pages.desktop;
    await page.getByLabel('Description (optional)').focus();
    await page.keyboard.type('Okta production');
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Your new SCIM token' });
    await dialog.waitFor();
    await dialog.getByText('This token is shown only once.').waitFor();
    token = await dialog.getByLabel('SCIM token for Okta production').inputValue();
    expect(token).toMatch(/^scim_[A-Za-z0-9_-]{43}$/);
    await dialog.getByRole('button', { name: 'Copy token' }).press('Enter');
    await dialog.getByText('The token is copied.').waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(token);
    await expectAccessible(page, 'desktop-directory-sync-token-shown');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    // Once closed, the token is nowhere on the page: it is shown only once.
    const row = page.getByRole('row').filter({ hasText: 'Okta production' });
    await row.getByText('Never').waitFor();
    expect(await page.content()).not.toContain(token);
  });

  it('shows the last request the directory made with the token and its outcome', async () => {
    const page = pages.desktop;
    const created = await scim('POST', '/Users', token, oktaUser('ada@acme.example', 'R-100'));
    expect(created.status).toBe(201);
    const row = page.getByRole('row').filter({ hasText: 'Okta production' });
    await expect
      .poll(async () => {
        await page.reload();
        await row.waitFor();
        return row.textContent();
      })
      .toContain('POST /Users');
    expect(await row.textContent()).toContain('201 created');
    // A refused request replaces it, with the SCIM error's words.
    const duplicate = await scim('POST', '/Users', token, oktaUser('ada@acme.example', 'R-101'));
    expect(duplicate.status).toBe(409);
    await expect
      .poll(async () => {
        await page.reload();
        await row.waitFor();
        return row.textContent();
      })
      .toContain('409 conflict — uniqueness: A User with that userName already exists in this organization.');
    await expectAccessible(page, 'desktop-directory-sync');
    // The user the directory created is one of the organization's reps.
    await page.getByRole('link', { name: 'Sales reps' }).click();
    await page.getByRole('cell', { name: 'R-100' }).waitFor();
  });

  it('at 360 × 740 the page fits the screen and passes axe', async () => {
    const page = pages.phone;
    await openPage(page);
    await page.getByRole('row').filter({ hasText: 'Okta production' }).waitFor();
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(
      SIZES.phone.width,
    );
    await expectAccessible(page, 'phone-directory-sync');
  });

  it('revokes a token by keyboard after asking, and the directory is refused from then on', async () => {
    const page = pages.desktop;
    await openPage(page);
    await page.getByRole('button', { name: 'Revoke Okta production' }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Revoke Okta production?' });
    await dialog.getByText('This cannot be undone.').waitFor();
    await expectAccessible(page, 'desktop-directory-sync-revoke');
    // Nothing is revoked until the confirmation is pressed.
    expect((await scim('GET', '/ServiceProviderConfig', token)).status).toBe(200);
    await dialog.getByRole('button', { name: 'Revoke token' }).focus();
    await page.keyboard.press('Enter');
    await page.getByText('Okta production is revoked').waitFor();
    await page.getByText('No tokens yet. Create one for your directory with "Create token".').waitFor();
    expect((await scim('GET', '/Users', token)).status).toBe(401);
    expect(scriptErrors).toEqual([]);
  });
});
