import type { Locator, Page } from 'playwright-core';
import { describe, expect, it, vi } from 'vitest';
import { oktaUser } from '../scim/support.js';
import { type AdminSession, consoleTest, SIZES } from '../support/console.js';
import { databaseKinds } from '../support/databases.js';

vi.setConfig({ testTimeout: 90_000, hookTimeout: 120_000 });

/**
 * The console's "Directory sync" page, as an Admin uses it in Chromium at 1280 × 800 and 360 × 740: the SCIM base
 * URL to copy, a token created and shown once, the directory's last request and its outcome, a revocation that asks
 * first. By keyboard where a person would use it so; axe-core on every state shown.
 */
describe.each(databaseKinds)('the console\u2019s directory sync page on %s', (kind) => {
  const c = consoleTest(kind, { clipboard: true });

  /** A SCIM request as the directory sends it, over HTTP. */
  const scim = (method: string, resource: string, bearer: string, body?: unknown) =>
    fetch(`${c.publicUrl}/scim/v2${resource}`, {
      method,
      headers: {
        authorization: `Bearer ${bearer}`,
        ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  /** The row's text once the page is read again: the directory's last request is shown on the next visit. */
  const rowAfterReload = async (page: Page, row: Locator) => {
    await page.reload();
    await row.waitFor();
    return row.textContent();
  };

  const openPage = async (page: Page) => {
    await page.getByRole('link', { name: 'Directory sync' }).click();
    await page.getByRole('heading', { name: 'Directory sync', level: 1 }).waitFor();
  };

  /** The token "Okta production", created through the API as the page creates it; its secret. */
  const oktaToken = async (admin: AdminSession) =>
    (
      await admin.read<{ token: string }>('POST', '/api/organizations/scim/tokens', {
        description: 'Okta production',
      })
    ).token;

  it('shows the SCIM base URL to copy, and says there are no tokens yet', async () => {
    const admin = await c.signedInAdmin({ admin: 'grace' });
    const page = admin.pages.desktop;
    await openPage(page);
    const baseUrl = page.getByLabel('SCIM base URL');
    expect(await baseUrl.inputValue()).toBe(`${c.publicUrl}/scim/v2`);
    await page.getByRole('button', { name: 'Copy base URL' }).click();
    await page.getByText('The base URL is copied.').waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(`${c.publicUrl}/scim/v2`);
    await page.getByText('No tokens yet. Create one for your directory with "Create token".').waitFor();
    await c.expectAccessible(page, 'desktop-directory-sync-empty');
  });

  it('creates a token by keyboard and shows it once, with a copy button and the warning', async () => {
    const admin = await c.signedInAdmin({ admin: 'grace' });
    const page = admin.pages.desktop;
    await openPage(page);
    await page.getByLabel('Description (optional)').focus();
    await page.keyboard.type('Okta production');
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Your new SCIM token' });
    await dialog.waitFor();
    await dialog.getByText('This token is shown only once.').waitFor();
    const token = await dialog.getByLabel('SCIM token for Okta production').inputValue();
    expect(token).toMatch(/^scim_[A-Za-z0-9_-]{43}$/);
    await dialog.getByRole('button', { name: 'Copy token' }).press('Enter');
    await dialog.getByText('The token is copied.').waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(token);
    await c.expectAccessible(page, 'desktop-directory-sync-token-shown');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    // Once closed, the token is nowhere on the page: it is shown only once.
    const row = page.getByRole('row').filter({ hasText: 'Okta production' });
    await row.getByText('Never').waitFor();
    expect(await page.content()).not.toContain(token);
  });

  it('shows the last request the directory made with the token and its outcome', async () => {
    const admin = await c.signedInAdmin({ admin: 'grace' });
    const page = admin.pages.desktop;
    const token = await oktaToken(admin);
    await openPage(page);
    const created = await scim('POST', '/Users', token, oktaUser(`ada@${admin.domain}`, 'R-100'));
    expect(created.status).toBe(201);
    const row = page.getByRole('row').filter({ hasText: 'Okta production' });
    await expect.poll(() => rowAfterReload(page, row)).toContain('POST /Users');
    expect(await row.textContent()).toContain('201 created');
    // A refused request replaces it, with the SCIM error's words.
    const duplicate = await scim('POST', '/Users', token, oktaUser(`ada@${admin.domain}`, 'R-101'));
    expect(duplicate.status).toBe(409);
    await expect
      .poll(() => rowAfterReload(page, row))
      .toContain('409 conflict — uniqueness: A User with that userName already exists in this organization.');
    await c.expectAccessible(page, 'desktop-directory-sync');
    // The user the directory created is one of the organization's reps.
    await page.getByRole('link', { name: 'Sales reps' }).click();
    await page.getByRole('cell', { name: 'R-100' }).waitFor();
  });

  it('at 360 × 740 every column of a used token is in view, nothing scrolls sideways, and axe passes', async () => {
    const admin = await c.signedInAdmin({ admin: 'grace' });
    const page = admin.pages.phone;
    const token = await oktaToken(admin);
    expect((await scim('GET', '/Users', token)).status).toBe(200);
    await openPage(page);
    const row = page.getByRole('row').filter({ hasText: 'Okta production' });
    await expect.poll(() => rowAfterReload(page, row)).toContain('GET /Users');
    await c.expectTableFits(page, 'SCIM tokens', 'phone');
    const lastUsed = (await page.getByRole('columnheader').allTextContents()).indexOf('Last used');
    expect(lastUsed).toBeGreaterThanOrEqual(0);
    const lastUsedCell = row.getByRole('cell').nth(lastUsed);
    expect(await lastUsedCell.textContent()).toMatch(/\d{4}, \d{2}:\d{2} /);
    const box = await lastUsedCell.boundingBox();
    expect(box).not.toBeNull();
    const { x, width } = box as NonNullable<typeof box>;
    expect(x, 'the "Last used" value starts on the screen').toBeGreaterThanOrEqual(0);
    expect(x + width, 'the "Last used" value ends on the screen').toBeLessThanOrEqual(SIZES.phone.width);
    await c.expectAccessible(page, 'phone-directory-sync');
  });

  it('revokes a token by keyboard after asking, and the directory is refused from then on', async () => {
    const admin = await c.signedInAdmin({ admin: 'grace' });
    const page = admin.pages.desktop;
    const token = await oktaToken(admin);
    await openPage(page);
    await page.getByRole('button', { name: 'Revoke Okta production' }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Revoke Okta production?' });
    await dialog.getByText('This cannot be undone.').waitFor();
    await c.expectAccessible(page, 'desktop-directory-sync-revoke');
    // Nothing is revoked until the confirmation is pressed.
    expect((await scim('GET', '/ServiceProviderConfig', token)).status).toBe(200);
    await dialog.getByRole('button', { name: 'Revoke token' }).focus();
    await page.keyboard.press('Enter');
    await page.getByText('Okta production is revoked').waitFor();
    await page.getByText('No tokens yet. Create one for your directory with "Create token".').waitFor();
    expect((await scim('GET', '/Users', token)).status).toBe(401);
  });
});
