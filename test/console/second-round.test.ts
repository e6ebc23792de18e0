import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createService, type Service } from '../../src/main.js';
import { createOrganization } from '../../src/organizations/service.js';
import type { Signin } from '../../src/signin/runtime.js';
import { launchChromium, violations } from '../support/browser.js';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../support/databases.js';
import { freePort } from '../support/ports.js';

vi.setConfig({ testTimeout: 90_000, hookTimeout: 120_000 });

const PASSWORD = 'cobalt meadow lantern 31';
const ADMIN_EMAIL = 'ada@acme.example';
const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS;
const SIZES = { desktop: { width: 1280, height: 800 }, phone: { width: 360, height: 740 } } as const;
type Size = keyof typeof SIZES;

/**
 * The console's second round (issue 26), as a person uses it in Chromium at 1280 × 800 and at 360 × 740: a rep's
 * actions in one menu and its dialogs whole on the screen, field errors in plain words, no dead ends. axe-core
 * on every state shown.
 */
describe.each(databaseKinds)('the console, second round, on %s', (kind) => {
  let browser: Browser;
  let service: Service;
  let database: TestDatabase;
  let dataDir: string;
  let publicUrl: string;
  let adminToken: string;
  const pages = {} as Record<Size, Page>;
  const scriptErrors: string[] = [];

  const expectAccessible = async (page: Page, name: string) => {
    expect(await violations(page), name).toEqual([]);
    if (SCREENSHOTS && kind === 'pglite') {
      await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
    }
  };

  /** Adds a rep through the API, as another admin would have. */
  const addRep = async (repNumber: string, firstName: string, lastName: string) => {
    const response = await service.app.inject({
      method: 'PUT',
      url: '/api/organizations/salesreps',
      headers: { authorization: `Bearer ${adminToken}` },
      payload: {
        firstName,
        lastName,
        email: `${firstName}.${lastName}@acme.example`.toLowerCase(),
        repNumber,
      },
    });
    expect(response.statusCode, response.body).toBeLessThan(300);
  };

  /** Whether the box lies wholly inside the other (a pixel of rounding allowed). */
  const inside = (
    inner: { x: number; y: number; width: number; height: number },
    outer: { x: number; y: number; width: number; height: number },
  ) =>
    inner.x >= outer.x - 1 &&
    inner.y >= outer.y - 1 &&
    inner.x + inner.width <= outer.x + outer.width + 1 &&
    inner.y + inner.height <= outer.y + outer.height + 1;

  /** Nothing in the dialog is cut off or spills out: each element's box is within the dialog's. */
  const expectWhole = async (page: Page, dialog: Locator, size: Size) => {
    const viewport = { x: 0, y: 0, ...SIZES[size] };
    const box = await dialog.boundingBox();
    expect(box).not.toBeNull();
    expect(inside(box as NonNullable<typeof box>, viewport), 'the dialog within the viewport').toBe(true);
    const spilled = await dialog.evaluate((element) => {
      const outer = element.getBoundingClientRect();
      return [...element.querySelectorAll('*')]
        .filter((child) => {
          const rect = child.getBoundingClientRect();
          return rect.width > 0 && (rect.left < outer.left - 1 || rect.right > outer.right + 1);
        })
        .map((child) => child.outerHTML.slice(0, 80));
    });
    expect(spilled).toEqual([]);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(
      SIZES[size].width,
    );
  };

  const signIn = async (page: Page) => {
    await page.goto(`${publicUrl}/console/`);
    await page.getByLabel('Email').fill(ADMIN_EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Sales reps' }).waitFor();
  };

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'salesreps-console2-'));
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    database = await openTestDatabase(kind);
    service = await createService(
      loadConfig({
        DATA_DIR: dataDir,
        HOST: '127.0.0.1',
        PORT: String(port),
        PASSWORD_SCRYPT_LOG2_N: '14',
      }),
      { database, log: false },
    );
    await service.app.listen({ host: '127.0.0.1', port });
    await createOrganization(database.db, { name: 'Acme Supply', identityOrganizationId: 'org_acme' });
    const { link } = await (service.signin as Signin).inviteAdmin({
      identityOrganizationId: 'org_acme',
      email: ADMIN_EMAIL,
    });
    adminToken = await (service.localIssuer as NonNullable<Service['localIssuer']>).sign(
      { userId: 'admin_setup', organization: 'org_acme', roles: ['Admin'] },
      600,
    );
    browser = await launchChromium();
    for (const size of Object.keys(SIZES) as Size[]) {
      const page = await (await browser.newContext({ viewport: SIZES[size] })).newPage();
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

  it('an empty organization says "no reps yet" and how to add one, apart from a search that finds nothing', async () => {
    const page = pages.desktop;
    // One organization: the header names it and the person, and offers no "Switch organization" that would do nothing.
    // The organization by name (GET /api/organizations/current), not its identity organization id.
    await page.getByText('Acme Supply · Admin').waitFor();
    await page.getByText(`Signed in as ${ADMIN_EMAIL}`).waitFor();
    expect(await page.getByRole('button', { name: 'Switch organization' }).count()).toBe(0);
    await page.getByText('No sales reps yet. Add the first with "Add sales rep".').waitFor();
    await page.getByLabel('Search reps').fill('zz');
    await page.getByText('No sales reps match the search and status chosen.').waitFor();
    await page.getByLabel('Search reps').fill('');
    await page.getByRole('link', { name: 'Customers' }).click();
    await page.getByText('No customers yet. Add them with "Import CSV".').waitFor();
    expect(await page.getByRole('button', { name: 'Export CSV' }).isDisabled()).toBe(true);
    await expectAccessible(page, 'desktop-customers-empty');
    await page.getByRole('link', { name: 'Sales reps' }).click();
  });

  describe.each(Object.keys(SIZES) as Size[])('at the %s size', (size) => {
    it("a rep's actions are one menu, and its dialogs open outside the table, whole", async () => {
      const page = pages[size];
      if (size === 'desktop') {
        await addRep('REP-001', 'Jane', 'Smith');
        await addRep('REP-002', 'Omar', 'Quinn');
      }
      await page.reload();
      await page.getByRole('cell', { name: 'REP-002' }).waitFor();
      await page.getByRole('button', { name: 'Actions for Omar Quinn' }).click();
      const menu = page.getByRole('list', { name: 'Actions for Omar Quinn' });
      expect(await menu.getByRole('button').allTextContents()).toEqual([
        'Change rep number',
        'Deactivate',
        'Resend invitation',
        'Remove',
      ]);
      const menuBox = await menu.boundingBox();
      expect(inside(menuBox as NonNullable<typeof menuBox>, { x: 0, y: 0, ...SIZES[size] })).toBe(true);
      await expectAccessible(page, `${size}-reps-actions-menu`);

      // Change rep number: the 409 is said inside the dialog, the field and the alert within it.
      await menu.getByRole('button', { name: 'Change rep number' }).click();
      const numberDialog = page.getByRole('dialog', { name: 'Change the rep number of Omar Quinn' });
      expect(await numberDialog.evaluate((element) => element.closest('table'))).toBeNull();
      await numberDialog.getByLabel('Rep number').fill('REP-001');
      await numberDialog.getByRole('button', { name: 'Save rep number' }).click();
      await numberDialog.getByText('"REP-001" is already used').waitFor();
      await expectWhole(page, numberDialog, size);
      await expectAccessible(page, `${size}-change-rep-number-taken`);
      await page.keyboard.press('Escape');
      await numberDialog.waitFor({ state: 'hidden' });
      // The focus is back on the menu's button, for the next action.
      expect(await page.evaluate('document.activeElement.textContent')).toContain('Actions');

      // Remove: the account-deletion warning is read whole, inside the dialog and the viewport.
      await page.getByRole('button', { name: 'Actions for Omar Quinn' }).click();
      await menu.getByRole('button', { name: 'Remove' }).click();
      const removeDialog = page.getByRole('dialog', { name: 'Remove Omar Quinn?' });
      const warning = removeDialog.getByText('their account is deleted entirely');
      await warning.waitFor();
      expect(await removeDialog.evaluate((element) => element.closest('table'))).toBeNull();
      const warningBox = await warning.boundingBox();
      const dialogBox = await removeDialog.boundingBox();
      expect(warningBox).not.toBeNull();
      const text = warningBox as NonNullable<typeof warningBox>;
      expect(inside(text, { x: 0, y: 0, ...SIZES[size] }), 'the warning within the viewport').toBe(true);
      expect(inside(text, dialogBox as NonNullable<typeof dialogBox>), 'the warning within the dialog').toBe(
        true,
      );
      await expectWhole(page, removeDialog, size);
      await expectAccessible(page, `${size}-remove-dialog`);
      await removeDialog.getByRole('button', { name: 'Cancel' }).click();
      await removeDialog.waitFor({ state: 'hidden' });
    });
  });

  it('the customer detail says it is loading until the customer is read', async () => {
    const page = pages.desktop;
    const response = await service.app.inject({
      method: 'PUT',
      url: '/api/customers',
      headers: { authorization: `Bearer ${adminToken}` },
      payload: { customerNumber: 'C-100', companyName: 'Northwind Traders', repNumber: 'REP-001' },
    });
    expect(response.statusCode, response.body).toBeLessThan(300);
    // The customer's answer is held back until the loading state has been seen.
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    await page.route('**/api/customers/C-100', async (route) => {
      await held;
      await route.continue();
    });
    await page.getByRole('link', { name: 'Customers' }).click();
    await page.getByRole('button', { name: 'Show customer C-100' }).click();
    const detail = page.getByRole('dialog', { name: 'Customer C-100' });
    await detail.getByRole('status').filter({ hasText: 'Loading the customer…' }).waitFor();
    release();
    await detail.getByText('Northwind Traders').waitFor();
    expect(await detail.getByText('Loading the customer…').count()).toBe(0);
    await page.unroute('**/api/customers/C-100');
    await page.keyboard.press('Escape');
    expect(await page.getByRole('button', { name: 'Export CSV' }).isDisabled()).toBe(false);
  });

  it('an import shows a preview first, warns of unknown rep numbers, counts right and lists errors by line', async () => {
    const page = pages.desktop;
    await page.getByRole('link', { name: 'Customers' }).click();
    await page.getByRole('button', { name: 'Import CSV' }).click();
    const dialog = page.getByRole('dialog', { name: 'Import customers from CSV' });
    const csv = [
      'customerNumber,companyName,companyEmail,repNumber',
      'C-1,Northwind Traders,orders@northwind.example.com,REP-001', // line 2
      'C-2,Contoso,not-an-email,REP-001', // line 3: the API refuses the email
      'C-3,Fabrikam,,REP-404', // line 4: a rep number no rep has
      'C-4,,,REP-001', // line 5: no company name
      'C-3,Fabrikam again,,REP-001', // line 6: repeats line 4
      'C-5,Tailspin,,REP-404', // line 7
      'C-6,Wingtip,,', // line 8
    ].join('\n');
    await dialog
      .getByLabel('CSV file')
      .setInputFiles({ name: 'customers.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await dialog.getByText('customers.csv: 7 rows.').waitFor();
    expect(await dialog.getByRole('status').first().textContent()).toContain(
      '5 rows ready to import; 2 rows with errors will not be imported',
    );
    await dialog.getByText('2 rows name a rep number that matches no sales rep').waitFor();
    await dialog.getByText('REP-404: lines 4, 7').waitFor();
    const errorLines = () => dialog.getByRole('row').locator('td:first-child').allTextContents();
    expect(await errorLines()).toEqual(['5', '6']);
    await dialog.getByText('Line 6 repeats the customer number of line 4').waitFor();
    await dialog.getByText('Enter a company name').waitFor();
    // Nothing was written yet.
    expect(
      (
        await service.app.inject({
          method: 'GET',
          url: '/api/customers?search=C-',
          headers: { authorization: `Bearer ${adminToken}` },
        })
      ).headers['x-total-count'],
    ).toBe('1');
    await expectAccessible(page, 'desktop-customers-import-preview');

    await dialog.getByRole('button', { name: 'Import 5 rows' }).click();
    await dialog.getByText('Done: 4 of 7 rows imported; 3 rows not imported (3 errors).').waitFor();
    expect(await errorLines()).toEqual(['3', '5', '6']);
    await dialog.getByText('Enter a company email like name@company.com').waitFor();
    const download = page.waitForEvent('download');
    await dialog.getByRole('button', { name: 'Download the errors (CSV)' }).click();
    const file = fs
      .readFileSync(await (await download).path(), 'utf8')
      .trim()
      .split(/\r?\n/);
    expect(file).toEqual([
      'line,column,error',
      '3,companyEmail,Enter a company email like name@company.com',
      '5,companyName,Enter a company name',
      '6,customerNumber,Line 6 repeats the customer number of line 4',
    ]);
    await expectAccessible(page, 'desktop-customers-import-done');
    await dialog.getByRole('button', { name: 'Close' }).click();
    await page.getByText('1–5 of 5').waitFor();

    // At 360 px the preview is read whole, within the dialog.
    const phone = pages.phone;
    await phone.getByRole('link', { name: 'Customers' }).click();
    await phone.getByRole('button', { name: 'Import CSV' }).click();
    const phoneDialog = phone.getByRole('dialog', { name: 'Import customers from CSV' });
    await phoneDialog
      .getByLabel('CSV file')
      .setInputFiles({ name: 'customers.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await phoneDialog.getByText('REP-404: lines 4, 7').waitFor();
    await expectWhole(phone, phoneDialog, 'phone');
    await expectAccessible(phone, 'phone-customers-import-preview');
    await phoneDialog.getByRole('button', { name: 'Cancel' }).click();
  });

  it('deactivation asks first; its notice can be dismissed; sign-out says "You are signed out"', async () => {
    const page = pages.desktop;
    await page.getByRole('link', { name: 'Sales reps' }).click();
    await page.getByRole('button', { name: 'Actions for Jane Smith' }).click();
    await page
      .getByRole('list', { name: 'Actions for Jane Smith' })
      .getByRole('button', { name: 'Deactivate' })
      .click();
    const confirm = page.getByRole('dialog', { name: 'Deactivate Jane Smith?' });
    await confirm.getByText('can no longer sign in').waitFor();
    await expectAccessible(page, 'desktop-deactivate-confirm');
    // Cancel changes nothing.
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'hidden' });
    const row = page.getByRole('row').filter({ hasText: 'jane.smith@acme.example' });
    // Still active: its Status is its invitation, not "Inactive".
    expect(await row.getByText(/^Invited · /).count()).toBe(1);
    await page.getByRole('button', { name: 'Actions for Jane Smith' }).click();
    await page
      .getByRole('list', { name: 'Actions for Jane Smith' })
      .getByRole('button', { name: 'Deactivate' })
      .click();
    await confirm.getByRole('button', { name: 'Deactivate Jane Smith' }).click();
    const notice = page.getByRole('status').filter({ hasText: 'Jane Smith is inactive now.' });
    await notice.waitFor();
    await row.getByText('Inactive').waitFor();
    await page.getByRole('button', { name: 'Dismiss this notice' }).click();
    await notice.waitFor({ state: 'hidden' });

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
    expect(await page.getByRole('button').allTextContents()).toEqual(['Sign in']);
    await expectAccessible(page, 'desktop-signed-out');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Email').waitFor();
  });

  it('no page threw a script error or logged one along the way', () => {
    expect(scriptErrors).toEqual([]);
  });
});
