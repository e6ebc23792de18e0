import fs from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import {
  chooseCsv,
  consoleTest,
  deactivateThroughMenu,
  inside,
  repAction,
  SIZE_NAMES,
  SIZES,
} from '../support/console.js';
import { databaseKinds } from '../support/databases.js';

vi.setConfig({ testTimeout: 90_000, hookTimeout: 120_000 });

/**
 * The console's second round, as a person uses it in Chromium at 1280 × 800 and at 360 × 740: a rep's actions in
 * one menu and its dialogs whole on the screen, field errors in plain words, no dead ends. axe-core on every state
 * shown.
 */
describe.each(databaseKinds)('the console, second round, on %s', (kind) => {
  const c = consoleTest(kind);

  it('an empty organization says "no reps yet" and how to add one, apart from a search that finds nothing', async () => {
    const admin = await c.signedInAdmin();
    const page = admin.pages.desktop;
    // One organization: the header names it and the person, and offers no "Switch organization" that would do nothing.
    // The organization by name (GET /api/organizations/current), not its identity organization id.
    await page.getByText('Acme Supply · Admin').waitFor();
    await page.getByText(`Signed in as ${admin.email}`).waitFor();
    expect(await page.getByRole('button', { name: 'Switch organization' }).count()).toBe(0);
    await page.getByText('No sales reps yet. Add the first with "Add sales rep".').waitFor();
    await page.getByLabel('Search reps').fill('zz');
    await page.getByText('No sales reps match the search and status chosen.').waitFor();
    await page.getByLabel('Search reps').fill('');
    await page.getByRole('link', { name: 'Customers' }).click();
    await page.getByText('No customers yet. Add them with "Import CSV".').waitFor();
    expect(await page.getByRole('button', { name: 'Export CSV' }).isDisabled()).toBe(true);
    await c.expectAccessible(page, 'desktop-customers-empty');
    await page.getByRole('link', { name: 'Sales reps' }).click();
  });

  describe.each(SIZE_NAMES)('at the %s size', (size) => {
    it("a rep's actions are one menu, and its dialogs open outside the table, whole", async () => {
      const admin = await c.signedInAdmin();
      const page = admin.pages[size];
      await admin.addRep('REP-001', 'Jane', 'Smith');
      await admin.addRep('REP-002', 'Omar', 'Quinn');
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
      await c.expectAccessible(page, `${size}-reps-actions-menu`);

      // Change rep number: the 409 is said inside the dialog, the field and the alert within it.
      await menu.getByRole('button', { name: 'Change rep number' }).click();
      const numberDialog = page.getByRole('dialog', { name: 'Change the rep number of Omar Quinn' });
      expect(await numberDialog.evaluate((element) => element.closest('table'))).toBeNull();
      await numberDialog.getByLabel('Rep number').fill('REP-001');
      await numberDialog.getByRole('button', { name: 'Save rep number' }).click();
      await numberDialog.getByText('"REP-001" is already used').waitFor();
      await c.expectWhole(page, numberDialog, size);
      await c.expectAccessible(page, `${size}-change-rep-number-taken`);
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
      await c.expectWhole(page, removeDialog, size);
      await c.expectAccessible(page, `${size}-remove-dialog`);
      await removeDialog.getByRole('button', { name: 'Cancel' }).click();
      await removeDialog.waitFor({ state: 'hidden' });
    });
  });

  it('the customer detail says it is loading until the customer is read', async () => {
    const admin = await c.signedInAdmin();
    const page = admin.pages.desktop;
    await admin.addRep('REP-001', 'Jane', 'Smith');
    const response = await admin.api('PUT', '/api/customers', {
      customerNumber: 'C-100',
      companyName: 'Northwind Traders',
      repNumber: 'REP-001',
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
    const admin = await c.signedInAdmin();
    const page = admin.pages.desktop;
    await admin.addRep('REP-001', 'Jane', 'Smith');
    await admin.read('PUT', '/api/customers', {
      customerNumber: 'C-100',
      companyName: 'Northwind Traders',
      repNumber: 'REP-001',
    });
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
    await chooseCsv(dialog, 'customers.csv', csv);
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
    expect((await admin.api('GET', '/api/customers?search=C-')).headers['x-total-count']).toBe('1');
    await c.expectAccessible(page, 'desktop-customers-import-preview');

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
    await c.expectAccessible(page, 'desktop-customers-import-done');
    await dialog.getByRole('button', { name: 'Close' }).click();
    await page.getByText('1–5 of 5').waitFor();

    // At 360 px the preview is read whole, within the dialog.
    const phone = admin.pages.phone;
    await phone.getByRole('link', { name: 'Customers' }).click();
    await phone.getByRole('button', { name: 'Import CSV' }).click();
    const phoneDialog = phone.getByRole('dialog', { name: 'Import customers from CSV' });
    await chooseCsv(phoneDialog, 'customers.csv', csv);
    await phoneDialog.getByText('REP-404: lines 4, 7').waitFor();
    await c.expectWhole(phone, phoneDialog, 'phone');
    await c.expectAccessible(phone, 'phone-customers-import-preview');
    await phoneDialog.getByRole('button', { name: 'Cancel' }).click();
  });

  it('a deactivation is undone from its notice, which stays while focused: the rep is active again', async () => {
    const admin = await c.signedInAdmin();
    const page = admin.pages.desktop;
    await admin.addRep('REP-001', 'Jane', 'Smith');
    const active = async () =>
      (await admin.read<{ active: boolean }[]>('GET', '/api/organizations/salesreps?search=REP-001'))[0]
        ?.active;
    // The page's clock, so that the notice's few seconds can be passed at will.
    await page.clock.install();
    await page.reload();
    await deactivateThroughMenu(page, 'Jane Smith');
    await page.getByRole('status').filter({ hasText: 'Deactivated Jane Smith (REP-001).' }).waitFor();
    expect(await active()).toBe(false);
    const undo = page.getByRole('button', { name: 'Undo' });
    await c.expectAccessible(page, 'desktop-reps-deactivated-undo');
    // A keyboard user on its way to Undo: focused, the notice does not go.
    await undo.focus();
    await page.clock.runFor(20_000);
    expect(await undo.count()).toBe(1);
    await page.keyboard.press('Enter');
    await page
      .getByRole('status')
      .filter({ hasText: 'Undone: Jane Smith (REP-001) is active again.' })
      .waitFor();
    expect(await active()).toBe(true);
    await page
      .getByRole('row')
      .filter({ hasText: 'REP-001' })
      .getByText(/^Invited · /)
      .waitFor();

    // Left alone, an undo notice goes after a few seconds.
    await deactivateThroughMenu(page, 'Jane Smith');
    await undo.waitFor();
    await page.mouse.move(0, 0);
    await page.locator('body').focus();
    await page.clock.runFor(10_000);
    await undo.waitFor({ state: 'hidden' });
    expect(await active()).toBe(false);
  });

  it('deactivation asks first; its notice can be dismissed; sign-out says "You are signed out"', async () => {
    const admin = await c.signedInAdmin();
    const page = admin.pages.desktop;
    const jane = await admin.addRep('REP-001', 'Jane', 'Smith');
    await page.reload();
    await repAction(page, 'Jane Smith', 'Deactivate');
    const confirm = page.getByRole('dialog', { name: 'Deactivate Jane Smith?' });
    await confirm.getByText('can no longer sign in').waitFor();
    await c.expectAccessible(page, 'desktop-deactivate-confirm');
    // Cancel changes nothing.
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'hidden' });
    const row = page.getByRole('row').filter({ hasText: jane.email });
    // Still active: its Status is its invitation, not "Inactive".
    expect(await row.getByText(/^Invited · /).count()).toBe(1);
    await repAction(page, 'Jane Smith', 'Deactivate');
    await confirm.getByRole('button', { name: 'Deactivate Jane Smith' }).click();
    const notice = page.getByRole('status').filter({ hasText: 'Deactivated Jane Smith (REP-001).' });
    await notice.waitFor();
    await row.getByText('Inactive').waitFor();
    await page.getByRole('button', { name: 'Dismiss this notice' }).click();
    await notice.waitFor({ state: 'hidden' });

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
    expect(await page.getByRole('button').allTextContents()).toEqual(['Sign in']);
    await c.expectAccessible(page, 'desktop-signed-out');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Email').waitFor();
  });
});
