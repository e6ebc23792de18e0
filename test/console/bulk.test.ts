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
 * Bulk work in the console, as an Admin does it in Chromium at 1280 × 800 and at 360 × 740: reps selected and
 * deactivated together after one confirmation naming them, and reps imported from a CSV file with a bad row
 * (preview, error report in line order, the good rows added, their invitations sent later). axe-core on every
 * state shown.
 */
describe.each(databaseKinds)('bulk work in the console on %s', (kind) => {
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
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'salesreps-console-bulk-'));
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

  /** The reps as the API lists them: rep number → active. */
  const repStates = async (): Promise<Record<string, boolean>> => {
    const response = await service.app.inject({
      method: 'GET',
      url: '/api/organizations/salesreps?pageSize=100',
      headers: { authorization: `Bearer ${adminToken}` },
    });
    return Object.fromEntries(
      (response.json() as { repNumber: string; active: boolean }[]).map((rep) => [rep.repNumber, rep.active]),
    );
  };

  /** The kinds of the effects recorded for the rep with this email. */
  const effectsOf = async (email: string): Promise<string[]> => {
    const rows = await database.db
      .selectFrom('effect as e')
      .innerJoin('organization_sales_rep as a', 'a.sales_rep_id', 'e.sales_rep_id')
      .select('e.kind')
      .where('a.email', '=', email)
      .orderBy('e.id')
      .execute();
    return rows.map((row) => row.kind);
  };

  it('deactivates the selected reps together after one confirmation that names them', async () => {
    const page = pages.desktop;
    await addRep('REP-001', 'Jane', 'Smith');
    await addRep('REP-002', 'Omar', 'Quinn');
    await addRep('REP-003', 'Lea', 'Park');
    await page.reload();
    await page.getByRole('cell', { name: 'REP-003' }).waitFor();
    await page.getByRole('checkbox', { name: 'Select Jane Smith' }).check();
    await page.getByRole('checkbox', { name: 'Select Omar Quinn' }).check();
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
    await expectWhole(page, dialog, 'desktop');
    await expectAccessible(page, 'desktop-reps-bulk-deactivate');
    // Nothing changes before the confirmation.
    expect(await repStates()).toEqual({ 'REP-001': true, 'REP-002': true, 'REP-003': true });
    await dialog.getByRole('button', { name: 'Deactivate 2 reps' }).click();
    await page.getByText('2 reps deactivated.').waitFor();
    expect(await repStates()).toEqual({ 'REP-001': false, 'REP-002': false, 'REP-003': true });
    await page
      .getByRole('row', { name: /REP-001/ })
      .getByText('Inactive')
      .waitFor();
    // The selection is cleared once the action is done.
    expect(await page.getByRole('region', { name: 'Selected reps' }).count()).toBe(0);
    await expectAccessible(page, 'desktop-reps-bulk-deactivated');
  });

  it('applies an action only to the selected reps it fits, and says which stay as they are', async () => {
    const page = pages.phone;
    await page.reload();
    await page.getByRole('cell', { name: 'REP-003' }).waitFor();
    await page.getByRole('checkbox', { name: 'Select all reps on this page' }).check();
    const bar = page.getByRole('region', { name: 'Selected reps' });
    await bar.getByText('3 reps selected').waitFor();
    await bar.getByRole('button', { name: 'Activate', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Activate 2 reps?' });
    await dialog.getByText(/^Activate 2 reps: (Omar Quinn, Jane Smith|Jane Smith, Omar Quinn)\.$/).waitFor();
    await dialog.getByText('1 selected rep is active already and stays as it is.').waitFor();
    await expectWhole(page, dialog, 'phone');
    await expectAccessible(page, 'phone-reps-bulk-activate');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await bar.getByRole('button', { name: 'Clear selection' }).click();
    expect(await page.getByRole('region', { name: 'Selected reps' }).count()).toBe(0);
    expect(await repStates()).toEqual({ 'REP-001': false, 'REP-002': false, 'REP-003': true });
  });

  it('imports reps from CSV: a preview, the bad rows reported by line, the good ones added and invited later', async () => {
    const page = pages.desktop;
    await page.getByRole('button', { name: 'Import CSV' }).click();
    const dialog = page.getByRole('dialog', { name: 'Import sales reps from CSV' });
    const csv = [
      'firstName,lastName,email,phoneNumber,repNumber',
      'Ana,Lima,ana.lima@acme.example,+1 555 0101,REP-010',
      'Ben,Cole,not-an-email,,REP-011',
      'Cai,Ng,cai.ng@acme.example,,REP-012',
      'Dee,Fox,dee.fox@acme.example,,REP-010',
      'Eve,Hart,JANE.SMITH@acme.example,,REP-013',
      'Fay,Roe,fay.roe@acme.example,,',
    ].join('\n');
    await dialog
      .getByLabel('CSV file')
      .setInputFiles({ name: 'reps.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await dialog
      .getByText('4 rows ready to import; 2 rows with errors will not be imported', { exact: false })
      .waitFor();
    await dialog.getByRole('cell', { name: 'Line 5 repeats the rep number of line 2' }).waitFor();
    await dialog.getByRole('cell', { name: 'Enter a rep number' }).waitFor();
    await expectWhole(page, dialog, 'desktop');
    await expectAccessible(page, 'desktop-reps-import-preview');
    // Nothing is written before "Import".
    expect(Object.keys(await repStates())).toHaveLength(3);

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
    await expectAccessible(page, 'desktop-reps-import-done');

    const states = await repStates();
    expect(states).toMatchObject({ 'REP-010': true, 'REP-012': true });
    expect(Object.keys(states)).toHaveLength(5);
    // Added without their invitation: provisioned and granted, no welcome mail yet.
    expect(await effectsOf('ana.lima@acme.example')).toEqual(['identity.provision', 'sync.grant']);

    await dialog.getByRole('button', { name: 'Send invitations' }).click();
    await dialog.getByText('Sent 2 invitations.').waitFor();
    expect(await effectsOf('ana.lima@acme.example')).toEqual([
      'identity.provision',
      'sync.grant',
      'email.welcome',
    ]);
    expect(await effectsOf('cai.ng@acme.example')).toEqual([
      'identity.provision',
      'sync.grant',
      'email.welcome',
    ]);
    await dialog.getByRole('button', { name: 'Close' }).click();
    await page.getByRole('cell', { name: 'REP-010' }).waitFor();
    expect(await page.getByText('not been invited yet', { exact: false }).count()).toBe(0);
  });

  it('shows the import preview and the reps waiting for invitations whole at 360 px', async () => {
    const page = pages.phone;
    const response = await service.app.inject({
      method: 'POST',
      url: '/api/organizations/salesreps/bulk?sendInvitations=false',
      headers: { authorization: `Bearer ${adminToken}` },
      payload: [{ firstName: 'Gus', lastName: 'Vale', email: 'gus.vale@acme.example', repNumber: 'REP-020' }],
    });
    expect(response.statusCode, response.body).toBe(200);
    await page.reload();
    await page.getByText('1 rep has not been invited yet', { exact: false }).waitFor();
    await expectAccessible(page, 'phone-reps-pending-invitations');
    await page.getByRole('button', { name: 'Import CSV' }).click();
    const dialog = page.getByRole('dialog', { name: 'Import sales reps from CSV' });
    const csv = [
      'firstName,lastName,email,repNumber',
      'Hal,Moss,hal.moss@acme.example,REP-030',
      'Ida,,ida@acme.example,REP-031',
    ].join('\n');
    await dialog
      .getByLabel('CSV file')
      .setInputFiles({ name: 'reps.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await dialog
      .getByText('1 row ready to import; 1 row with errors will not be imported', { exact: false })
      .waitFor();
    await expectWhole(page, dialog, 'phone');
    await expectAccessible(page, 'phone-reps-import-preview');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(scriptErrors).toEqual([]);
  });
  it('shows a customer import as one audit entry, with its customers one click away', async () => {
    const page = pages.desktop;
    const response = await service.app.inject({
      method: 'PUT',
      url: '/api/customers',
      headers: { authorization: `Bearer ${adminToken}` },
      payload: ['C-1', 'C-2', 'C-3'].map((customerNumber) => ({
        customerNumber,
        companyName: `Company ${customerNumber}`,
      })),
    });
    expect(response.statusCode, response.body).toBe(200);
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('cell', { name: 'customer.imported', exact: true }).waitFor();
    await page.getByText('customers: null → 3').waitFor();
    expect(await page.getByRole('cell', { name: 'customer.created', exact: true }).count()).toBe(0);
    await expectAccessible(page, 'desktop-audit-log-import');
    await page.getByRole('button', { name: 'Show each customer of this import' }).click();
    await expect
      .poll(() => page.getByRole('cell', { name: 'customer.created', exact: true }).count())
      .toBe(3);
    await page.getByRole('link', { name: 'Sales reps' }).click();
    expect(scriptErrors).toEqual([]);
  });
});
