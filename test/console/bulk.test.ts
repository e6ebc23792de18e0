import fs from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { type AdminSession, chooseCsv, consoleTest } from '../support/console.js';
import { databaseKinds } from '../support/databases.js';

vi.setConfig({ testTimeout: 90_000, hookTimeout: 120_000 });

/**
 * Bulk work in the console, as an Admin does it in Chromium at 1280 × 800 and at 360 × 740: reps selected and
 * deactivated together after one confirmation naming them, and reps imported from a CSV file with a bad row
 * (preview, error report in line order, the good rows added, their invitations sent later). axe-core on every
 * state shown.
 */
describe.each(databaseKinds)('bulk work in the console on %s', (kind) => {
  const c = consoleTest(kind);

  /** The reps as the API lists them: rep number → active. */
  const repStates = async (admin: AdminSession): Promise<Record<string, boolean>> => {
    const reps = await admin.read<{ repNumber: string; active: boolean }[]>(
      'GET',
      '/api/organizations/salesreps?pageSize=100',
    );
    return Object.fromEntries(reps.map((rep) => [rep.repNumber, rep.active]));
  };

  /** The kinds of the effects recorded for the rep with this email. */
  const effectsOf = async (email: string): Promise<string[]> => {
    const rows = await c.database.db
      .selectFrom('effect as e')
      .innerJoin('organization_sales_rep as a', 'a.sales_rep_id', 'e.sales_rep_id')
      .select('e.kind')
      .where('a.email', '=', email)
      .orderBy('e.id')
      .execute();
    return rows.map((row) => row.kind);
  };

  /** Jane Smith, Omar Quinn and Lea Park, REP-001 to REP-003, shown in the admin's reps table at both sizes. */
  const threeReps = async (admin: AdminSession) => {
    const jane = await admin.addRep('REP-001', 'Jane', 'Smith');
    const omar = await admin.addRep('REP-002', 'Omar', 'Quinn');
    await admin.addRep('REP-003', 'Lea', 'Park');
    for (const page of Object.values(admin.pages)) {
      await page.reload();
      await page.getByRole('cell', { name: 'REP-003' }).waitFor();
    }
    return { jane, omar };
  };

  /** The three reps, Jane Smith and Omar Quinn selected on the desktop page. */
  const twoSelected = async (admin: AdminSession) => {
    const page = admin.pages.desktop;
    await threeReps(admin);
    await page.getByRole('checkbox', { name: 'Select Jane Smith' }).check();
    await page.getByRole('checkbox', { name: 'Select Omar Quinn' }).check();
    return page;
  };

  it('deactivates the selected reps together after one confirmation that names them', async () => {
    const admin = await c.signedInAdmin();
    const page = await twoSelected(admin);
    const bar = page.getByRole('region', { name: 'Selected reps' });
    await bar.getByText('2 reps selected').waitFor();
    // Two of three on the page: "select all" says it is partly ticked.
    expect(
      await page
        .getByRole('checkbox', { name: 'Select all reps on this page' })
        .evaluate((box) => (box as { indeterminate: boolean }).indeterminate),
    ).toBe(true);
    await bar.getByRole('button', { name: 'Deactivate' }).click();
    const dialog = page.getByRole('dialog', { name: 'Deactivate 2 reps?' });
    await dialog.getByText('Deactivate 2 reps: Jane Smith, Omar Quinn.').waitFor();
    await dialog.getByText('They can no longer sign in').waitFor();
    await c.expectWhole(page, dialog, 'desktop');
    await c.expectAccessible(page, 'desktop-reps-bulk-deactivate');
    // Nothing changes before the confirmation.
    expect(await repStates(admin)).toEqual({ 'REP-001': true, 'REP-002': true, 'REP-003': true });
    await dialog.getByRole('button', { name: 'Deactivate 2 reps' }).click();
    await page.getByText('Deactivated 2 reps: Jane Smith (REP-001), Omar Quinn (REP-002).').waitFor();
    expect(await repStates(admin)).toEqual({ 'REP-001': false, 'REP-002': false, 'REP-003': true });
    await page
      .getByRole('row', { name: /REP-001/ })
      .getByText('Inactive')
      .waitFor();
    // The selection is cleared once the action is done.
    expect(await page.getByRole('region', { name: 'Selected reps' }).count()).toBe(0);
    await c.expectAccessible(page, 'desktop-reps-bulk-deactivated');
  });

  it('a bulk deactivation can be undone from its notice: the reps are active again', async () => {
    const admin = await c.signedInAdmin();
    const page = await twoSelected(admin);
    await page
      .getByRole('region', { name: 'Selected reps' })
      .getByRole('button', { name: 'Deactivate' })
      .click();
    await page
      .getByRole('dialog', { name: 'Deactivate 2 reps?' })
      .getByRole('button', { name: 'Deactivate 2 reps' })
      .click();
    await page.getByText('Deactivated 2 reps: Jane Smith (REP-001), Omar Quinn (REP-002).').waitFor();
    expect(await repStates(admin)).toEqual({ 'REP-001': false, 'REP-002': false, 'REP-003': true });
    await page.getByRole('button', { name: 'Undo' }).click();
    await page.getByText('Undone: Jane Smith (REP-001), Omar Quinn (REP-002) are active again.').waitFor();
    expect(await repStates(admin)).toEqual({ 'REP-001': true, 'REP-002': true, 'REP-003': true });
    // Said, the notice offers nothing more to undo.
    expect(await page.getByRole('button', { name: 'Undo' }).count()).toBe(0);
  });

  it('applies an action only to the selected reps it fits, and says which stay as they are', async () => {
    const admin = await c.signedInAdmin();
    const page = admin.pages.phone;
    const { jane, omar } = await threeReps(admin);
    for (const rep of [jane, omar]) {
      await admin.read('POST', '/api/organizations/salesreps/deactivate', {
        organizationSalesRepId: rep.organizationSalesRepId,
      });
    }
    await page.reload();
    await page.getByRole('cell', { name: 'REP-003' }).waitFor();
    await page.getByRole('checkbox', { name: 'Select all reps on this page' }).check();
    const bar = page.getByRole('region', { name: 'Selected reps' });
    await bar.getByText('3 reps selected').waitFor();
    await bar.getByRole('button', { name: 'Activate', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Activate 2 reps?' });
    await dialog.getByText(/^Activate 2 reps: (Omar Quinn, Jane Smith|Jane Smith, Omar Quinn)\.$/).waitFor();
    await dialog.getByText('1 selected rep is active already and stays as it is.').waitFor();
    await c.expectWhole(page, dialog, 'phone');
    await c.expectAccessible(page, 'phone-reps-bulk-activate');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await bar.getByRole('button', { name: 'Clear selection' }).click();
    expect(await page.getByRole('region', { name: 'Selected reps' }).count()).toBe(0);
    expect(await repStates(admin)).toEqual({ 'REP-001': false, 'REP-002': false, 'REP-003': true });
  });

  it('imports reps from CSV: a preview, the bad rows reported by line, the good ones added and invited later', async () => {
    const admin = await c.signedInAdmin();
    const page = admin.pages.desktop;
    const { jane } = await threeReps(admin);
    const at = `@${admin.domain}`;
    await page.getByRole('button', { name: 'Import CSV' }).click();
    const dialog = page.getByRole('dialog', { name: 'Import sales reps from CSV' });
    const csv = [
      'firstName,lastName,email,phoneNumber,repNumber',
      `Ana,Lima,ana.lima${at},+1 555 0101,REP-010`,
      'Ben,Cole,not-an-email,,REP-011',
      `Cai,Ng,cai.ng${at},,REP-012`,
      `Dee,Fox,dee.fox${at},,REP-010`,
      `Eve,Hart,${jane.email.toUpperCase()},,REP-013`,
      `Fay,Roe,fay.roe${at},,`,
    ].join('\n');
    await chooseCsv(dialog, 'reps.csv', csv);
    await dialog
      .getByText('4 rows ready to import; 2 rows with errors will not be imported', { exact: false })
      .waitFor();
    await dialog.getByRole('cell', { name: 'Line 5 repeats the rep number of line 2' }).waitFor();
    await dialog.getByRole('cell', { name: 'Enter a rep number' }).waitFor();
    await c.expectWhole(page, dialog, 'desktop');
    await c.expectAccessible(page, 'desktop-reps-import-preview');
    // Nothing is written before "Import".
    expect(Object.keys(await repStates(admin))).toHaveLength(3);

    await dialog.getByLabel('Send the invitations now', { exact: false }).uncheck();
    await dialog.getByRole('button', { name: 'Import 4 reps' }).click();
    await dialog
      .getByText(
        'Done: 2 of 6 rows imported; 4 rows not imported (4 errors). Their invitations have not been sent yet.',
      )
      .waitFor();
    const errorRows = dialog
      .getByRole('table', { name: 'Rows not imported, in the order of the file' })
      .getByRole('row');
    expect(await errorRows.allInnerTexts()).toEqual([
      expect.stringMatching(/^Line\s+Column\s+Error$/),
      expect.stringMatching(/^3\s+email\s+Enter an email like name@company\.com$/),
      expect.stringMatching(/^5\s+repNumber\s+Line 5 repeats the rep number of line 2$/),
      expect.stringMatching(/^6\s+email\s+Email belongs to a sales rep of this organization$/),
      expect.stringMatching(/^7\s+repNumber\s+Enter a rep number$/),
    ]);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      dialog.getByRole('button', { name: 'Download the errors (CSV)' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('reps-errors.csv');
    expect(fs.readFileSync(await download.path(), 'utf8').split(/\r?\n/)[0]).toBe('line,column,error');
    await c.expectAccessible(page, 'desktop-reps-import-done');

    const states = await repStates(admin);
    expect(states).toMatchObject({ 'REP-010': true, 'REP-012': true });
    expect(Object.keys(states)).toHaveLength(5);
    // Added without their invitation: provisioned and granted, no welcome mail yet.
    expect(await effectsOf(`ana.lima${at}`)).toEqual(['identity.provision', 'sync.grant']);

    await dialog.getByRole('button', { name: 'Send invitations' }).click();
    await dialog.getByText('Sent 2 invitations.').waitFor();
    expect(await effectsOf(`ana.lima${at}`)).toEqual(['identity.provision', 'sync.grant', 'email.welcome']);
    expect(await effectsOf(`cai.ng${at}`)).toEqual(['identity.provision', 'sync.grant', 'email.welcome']);
    await dialog.getByRole('button', { name: 'Close' }).click();
    await page.getByRole('cell', { name: 'REP-010' }).waitFor();
    expect(await page.getByText('not been invited yet', { exact: false }).count()).toBe(0);
  });

  it('shows the import preview and the reps waiting for invitations whole at 360 px', async () => {
    const admin = await c.signedInAdmin();
    const page = admin.pages.phone;
    const response = await admin.api('POST', '/api/organizations/salesreps/bulk?sendInvitations=false', [
      { firstName: 'Gus', lastName: 'Vale', email: `gus.vale@${admin.domain}`, repNumber: 'REP-020' },
    ]);
    expect(response.statusCode, response.body).toBe(200);
    await page.reload();
    await page.getByText('1 rep has not been invited yet', { exact: false }).waitFor();
    await c.expectAccessible(page, 'phone-reps-pending-invitations');
    await page.getByRole('button', { name: 'Import CSV' }).click();
    const dialog = page.getByRole('dialog', { name: 'Import sales reps from CSV' });
    const csv = [
      'firstName,lastName,email,repNumber',
      `Hal,Moss,hal.moss@${admin.domain},REP-030`,
      `Ida,,ida@${admin.domain},REP-031`,
    ].join('\n');
    await chooseCsv(dialog, 'reps.csv', csv);
    await dialog
      .getByText('1 row ready to import; 1 row with errors will not be imported', { exact: false })
      .waitFor();
    await c.expectWhole(page, dialog, 'phone');
    await c.expectAccessible(page, 'phone-reps-import-preview');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
  });
  it('shows a customer import as one audit entry, with its customers one click away', async () => {
    const admin = await c.signedInAdmin();
    const page = admin.pages.desktop;
    const response = await admin.api(
      'PUT',
      '/api/customers',
      ['C-1', 'C-2', 'C-3'].map((customerNumber) => ({
        customerNumber,
        companyName: `Company ${customerNumber}`,
      })),
    );
    expect(response.statusCode, response.body).toBe(200);
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('cell', { name: 'customer.imported', exact: true }).waitFor();
    await page.getByText('customers: null → 3').waitFor();
    expect(await page.getByRole('cell', { name: 'customer.created', exact: true }).count()).toBe(0);
    await c.expectAccessible(page, 'desktop-audit-log-import');
    await page.getByRole('button', { name: 'Show each customer of this import' }).click();
    await expect
      .poll(() => page.getByRole('cell', { name: 'customer.created', exact: true }).count())
      .toBe(3);
    await page.getByRole('link', { name: 'Sales reps' }).click();
  });
});
