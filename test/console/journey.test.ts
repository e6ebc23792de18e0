import fs from 'node:fs';
import path from 'node:path';
import type { Locator } from 'playwright-core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createDemoOrganizationIfEmpty, DEMO_ADMIN_EMAIL } from '../../src/demo.js';
import type { Service } from '../../src/main.js';
import type { Signin } from '../../src/signin/runtime.js';
import { eventually } from '../effects/support/wait.js';
import {
  ADMIN_PASSWORD,
  type AdminSession,
  chooseCsv,
  consoleTest,
  deactivateThroughMenu,
} from '../support/console.js';
import { databaseKinds } from '../support/databases.js';

vi.setConfig({ testTimeout: 90_000, hookTimeout: 120_000 });

const REP_PASSWORD = 'amber lantern meadow 77';

/**
 * The newcomer's journey in headless Chromium, as a person does it: the service started as `serve` starts it (the
 * demo organization, its admin's invitation in DATA_DIR/demo.txt), the admin sets a password and signs in to the
 * console, adds a rep through the form, imports customers from a CSV file with a bad row; the rep sets its
 * password from the welcome mail, signs in and sees exactly its customers; the admin deactivates it and the rep's
 * next request is refused with a clear page. axe-core on every page, at desktop and phone sizes. Each step past the
 * first starts from an organization of its own, with what the steps before would have made.
 */
describe.each(databaseKinds)('the console journey on %s', (kind) => {
  const c = consoleTest(kind, { env: { EFFECTS_POLL_MS: '20' } });

  beforeAll(async () => {
    // What `salesreps serve` does on an empty database with the demo on.
    await createDemoOrganizationIfEmpty(
      c.database.db,
      c.service.localIssuer as NonNullable<Service['localIssuer']>,
      c.publicUrl,
      `${c.publicUrl}/console/`,
      c.config.auth.maxTokenLifetimeSeconds,
      c.dataDir,
      c.service.app.log,
      (input) => (c.service.signin as Signin).inviteAdmin(input),
    );
  });

  /** Demo Distributors' admin, signed in; with `jane`, the rep Jane Smith (REP-001) added. */
  const demoAdmin = () => c.signedInAdmin({ organizationName: 'Demo Distributors', domain: 'demo.example' });

  /** Fills the "Add sales rep" form, field by label, and presses "Add". */
  const addThroughForm = async (form: Locator, fields: Record<string, string>) => {
    for (const [label, value] of Object.entries(fields)) await form.getByLabel(label).fill(value);
    await form.getByRole('button', { name: 'Add', exact: true }).click();
  };

  /** Jane Smith (REP-001) and Omar Quinn (REP-002), and customers C-1 and C-3 of Jane, C-4 of Omar. */
  const repsAndCustomers = async (admin: AdminSession) => {
    const jane = await admin.addRep('REP-001', 'Jane', 'Smith');
    await admin.addRep('REP-002', 'Omar', 'Quinn');
    await admin.read('PUT', '/api/customers', [
      { customerNumber: 'C-1', companyName: 'Northwind Traders', repNumber: 'REP-001' },
      { customerNumber: 'C-3', companyName: 'Fabrikam', repNumber: 'REP-001' },
      { customerNumber: 'C-4', companyName: 'Tailspin', repNumber: 'REP-002' },
    ]);
    return jane;
  };

  it('/ leads the demo admin from the invitation in demo.txt to the console, signed in as Admin', async () => {
    const admin = await c.newPage();
    const demo = fs.readFileSync(path.join(c.dataDir, 'demo.txt'), 'utf8');
    const link = demo.match(/http:\/\/127\.0\.0\.1:\d+\/signin\/link\/\S+/)?.[0] as string;
    await admin.goto(link);
    await admin.getByLabel('Password').fill(ADMIN_PASSWORD);
    await admin.getByRole('button', { name: 'Set password' }).click();
    await admin.getByRole('link', { name: 'open the console' }).click();
    await admin.getByLabel('Email').waitFor();
    await c.expectAccessible(admin, 'sign-in');
    await c.submitSignIn(admin, DEMO_ADMIN_EMAIL, ADMIN_PASSWORD);
    await admin.getByRole('heading', { name: 'Sales reps' }).waitFor();
    expect(admin.url()).toBe(`${c.publicUrl}/console/`);
    expect(
      await admin.getByRole('navigation', { name: 'Console' }).getByRole('link').allTextContents(),
    ).toEqual(['Sales reps', 'Customers', 'Side effects', 'Audit log', 'Directory sync', 'Single sign-on']);
    await c.expectAccessible(admin, 'reps');
  });

  it('the Add sales rep form shows the API errors beside the fields they name, and adds the rep', async () => {
    const admin = (await demoAdmin()).pages.desktop;
    // Keyboard only: the control is reached with Tab and opened with Enter.
    const add = admin.getByRole('button', { name: 'Add sales rep' });
    await add.focus();
    await admin.keyboard.press('Enter');
    const form = admin.getByRole('dialog', { name: 'Add sales rep' });
    await form.getByLabel('First name').waitFor();
    expect(await admin.evaluate('document.activeElement.name')).toBe('firstName');
    await form.getByLabel('Email').fill('not an email');
    await form.getByRole('button', { name: 'Add', exact: true }).click();
    await form.getByRole('alert').waitFor();
    expect(await form.getByLabel('First name').getAttribute('aria-invalid')).toBe('true');
    expect(await form.getByLabel('Email').getAttribute('aria-invalid')).toBe('true');
    // In plain words, not the schema's ("must NOT have fewer than 1 characters", `must match format "email"`).
    expect(await form.getByText('Enter an email like name@company.com').count()).toBe(1);
    expect(await form.getByText('Enter a last name').count()).toBe(1);
    await c.expectAccessible(admin, 'add-sales-rep-errors');

    await addThroughForm(form, {
      'First name': 'Jane',
      'Last name': 'Smith',
      Email: 'jane.smith@example.com',
      'Phone number': '555-555-5555',
      'Rep number': 'REP-001',
    });
    await admin.getByRole('status').filter({ hasText: 'Jane Smith was added' }).waitFor();
    const row = admin.getByRole('row').filter({ hasText: 'jane.smith@example.com' });
    expect(await row.getByRole('cell').allTextContents()).toEqual(
      expect.arrayContaining([
        'REP-001',
        'Jane',
        'Smith',
        'jane.smith@example.com',
        '555-555-5555',
        // The Status of a rep just added: its invitation, not yet a sign-in.
        expect.stringMatching(/^Invited · /),
      ]),
    );

    // A taken rep number is said in plain words.
    await add.click();
    await form.getByLabel('First name').fill('John');
    await form.getByLabel('Last name').fill('Doe');
    await form.getByLabel('Email').fill('john.doe@example.com');
    await form.getByLabel('Rep number').fill('REP-001');
    await form.getByRole('button', { name: 'Add', exact: true }).click();
    expect(await form.getByRole('alert').textContent()).toContain('Rep number "REP-001" is already used');
    await admin.keyboard.press('Escape');
    await form.waitFor({ state: 'hidden' });
  });

  it('the search and the status filter narrow the reps table, with the count of the filtered list', async () => {
    const session = await demoAdmin();
    const admin = session.pages.desktop;
    await session.addRep('REP-001', 'Jane', 'Smith');
    await admin.reload();
    await admin.getByRole('cell', { name: 'REP-001' }).waitFor();
    await admin.getByRole('button', { name: 'Add sales rep' }).click();
    const form = admin.getByRole('dialog', { name: 'Add sales rep' });
    await addThroughForm(form, {
      'First name': 'Omar',
      'Last name': 'Quinn',
      Email: 'omar.quinn@example.com',
      'Rep number': 'REP-002',
    });
    await admin.getByRole('status').filter({ hasText: 'Omar Quinn was added' }).waitFor();
    await admin.getByText('1–2 of 2').waitFor();
    await admin.getByLabel('Search reps').fill('qui');
    await admin.getByText('1–1 of 1').waitFor();
    expect(await admin.getByRole('row').filter({ hasText: 'omar.quinn@example.com' }).count()).toBe(1);
    await admin.getByLabel('Search reps').fill('');
    await admin.getByLabel('Status').selectOption('inactive');
    await admin.getByText('No results').waitFor();
    await admin.getByLabel('Status').selectOption('all');
    await admin.getByText('1–2 of 2').waitFor();
  });

  it('a CSV import writes the good rows and reports the bad one by its line; the export has the view', async () => {
    const session = await demoAdmin();
    const admin = session.pages.desktop;
    await session.addRep('REP-001', 'Jane', 'Smith');
    await session.addRep('REP-002', 'Omar', 'Quinn');
    await admin.getByRole('link', { name: 'Customers' }).click();
    await admin.getByRole('heading', { name: 'Customers' }).waitFor();
    await admin.getByRole('button', { name: 'Import CSV' }).click();
    const dialog = admin.getByRole('dialog', { name: 'Import customers from CSV' });
    const csv = [
      'customerNumber,companyName,companyEmail,repNumber,active',
      'C-1,Northwind Traders,orders@northwind.example.com,REP-001,true',
      'C-2,Contoso,not-an-email,REP-001,true',
      'C-3,Fabrikam,,REP-001,yes',
      'C-4,Tailspin,,REP-002,true',
    ].join('\n');
    await chooseCsv(dialog, 'customers.csv', csv);
    // Read and checked first; nothing is written until the person imports.
    await dialog.getByText('4 rows ready to import').waitFor();
    await dialog.getByRole('button', { name: 'Import 4 rows' }).click();
    await dialog.getByText('Done: 3 of 4 rows imported; 1 row not imported (1 error).').waitFor();
    const errorRow = dialog.getByRole('row').filter({ hasText: 'companyEmail' });
    expect(await errorRow.getByRole('cell').first().textContent()).toBe('3');
    await c.expectAccessible(admin, 'customers-import');
    await dialog.getByRole('button', { name: 'Close' }).click();
    await admin.getByText('1–3 of 3').waitFor();
    await c.expectAccessible(admin, 'customers');

    // The rep filter is the rep picker: found by number (or name), chosen by name and number.
    const repFilter = admin.getByRole('group', { name: 'Rep', exact: true });
    await repFilter.getByLabel('Find a rep by name, email or rep number').fill('EP-001');
    await repFilter.getByRole('radio', { name: /\(REP-001\)$/ }).check();
    await admin.getByText('1–2 of 2').waitFor();
    const download = admin.waitForEvent('download');
    await admin.getByRole('button', { name: 'Export CSV' }).click();
    const file = await (await download).path();
    const lines = fs.readFileSync(file, 'utf8').trim().split(/\r?\n/);
    expect(lines[0]).toBe(
      'customerNumber,companyName,companyEmail,companyPhone,pricing,terms,active,repNumber,externalId',
    );
    expect(lines.slice(1).map((line) => line.split(',')[0])).toEqual(['C-1', 'C-3']);
  });

  it('the rep sets its password from the welcome mail, signs in and sees exactly its customers', async () => {
    const session = await demoAdmin();
    const jane = await repsAndCustomers(session);
    const rep = await c.repSignsIn(jane.email, REP_PASSWORD);
    await rep.getByText('1–2 of 2').waitFor();
    const shown = rep
      .getByRole('region', { name: 'Customers' })
      .getByRole('button', { name: /^Show customer / });
    expect(await shown.evaluateAll((buttons) => buttons.map((button) => button.textContent))).toEqual([
      'Show customer C-1',
      'Show customer C-3',
    ]);
    expect(await rep.getByRole('button', { name: 'Import CSV' }).count()).toBe(0);
    await c.expectAccessible(rep, 'rep-customers');
    await rep.getByRole('button', { name: 'Show customer C-1' }).click();
    const detail = rep.getByRole('dialog', { name: 'Customer C-1' });
    await detail.getByText('Northwind Traders').waitFor();
    await c.expectAccessible(rep, 'rep-customer-detail');
    await rep.keyboard.press('Escape');
    await rep.getByRole('link', { name: 'My organizations' }).click();
    await rep.getByRole('cell', { name: 'Demo Distributors' }).waitFor();
    await c.expectAccessible(rep, 'rep-organizations');
  });

  it('deactivated from the admin console, the rep is refused at its next request with a clear page', async () => {
    const session = await demoAdmin();
    const admin = session.pages.desktop;
    const jane = await repsAndCustomers(session);
    const rep = await c.repSignsIn(jane.email, REP_PASSWORD);
    await admin.reload();
    // It asks first: the person is locked out at once.
    await deactivateThroughMenu(admin, 'Jane Smith');
    await admin.getByRole('status').filter({ hasText: 'Deactivated Jane Smith (REP-001).' }).waitFor();
    expect(await admin.getByRole('row').filter({ hasText: jane.email }).getByText('Inactive').count()).toBe(
      1,
    );

    await rep.getByRole('link', { name: 'My customers' }).click();
    // The page reads its list again when the cached one is stale; a search asks anyway (a mere trigger).
    const ended = rep.getByRole('heading', { name: 'Access ended' });
    if (!(await ended.isVisible())) {
      await rep
        .getByLabel('Search customers')
        .fill('C-', { timeout: 5_000 })
        .catch(() => undefined);
    }
    await ended.waitFor();
    // In plain words, not the API's ("The caller is not an active sales rep of this organization").
    expect(await rep.getByRole('alert').textContent()).toContain('an admin has deactivated or removed you');
    await rep.getByRole('button', { name: 'Sign out and use another account' }).waitFor();
    await c.expectAccessible(rep, 'access-ended');
  });

  it('the side effects and the audit log show what happened, filterable', async () => {
    const session = await demoAdmin();
    const admin = session.pages.desktop;
    const jane = await session.addRep('REP-001', 'Jane', 'Smith');
    for (const [customerNumber, companyName] of [
      ['C-1', 'Northwind Traders'],
      ['C-3', 'Fabrikam'],
      ['C-4', 'Tailspin'],
    ]) {
      await session.read('PUT', '/api/customers', { customerNumber, companyName, repNumber: 'REP-001' });
    }
    await session.read('POST', '/api/organizations/salesreps/deactivate', {
      organizationSalesRepId: jane.organizationSalesRepId,
    });
    await admin.getByRole('link', { name: 'Side effects' }).click();
    await admin.getByRole('heading', { name: 'Side effects' }).waitFor();
    await admin.getByLabel('Show').selectOption('pending');
    await admin.getByRole('caption').filter({ hasText: 'Pending effects' }).waitFor();
    await c.expectAccessible(admin, 'effects');

    await admin.getByRole('link', { name: 'Audit log' }).click();
    await admin.getByRole('heading', { name: 'Audit log' }).waitFor();
    await admin.getByRole('cell', { name: 'sales_rep.deactivated' }).waitFor();
    await admin.getByLabel('Action').selectOption('customer.created');
    await admin.getByRole('button', { name: 'Apply filters' }).click();
    await eventually(async () => {
      const actions = await admin.getByRole('row').locator('td:nth-child(2)').allTextContents();
      expect(actions).toEqual(['customer.created', 'customer.created', 'customer.created']);
    });
    await c.expectAccessible(admin, 'audit-log');
  });

  it('at 360 px wide every page fits the screen and stays accessible', async () => {
    const session = await demoAdmin();
    await repsAndCustomers(session);
    const page = session.pages.phone;
    await page.reload();
    await page.getByRole('heading', { name: 'Sales reps' }).waitFor();
    for (const [link, heading] of [
      ['Sales reps', 'Sales reps'],
      ['Customers', 'Customers'],
      ['Side effects', 'Side effects'],
      ['Audit log', 'Audit log'],
    ] as const) {
      await page.getByRole('link', { name: link }).click();
      await page.getByRole('heading', { name: heading }).waitFor();
      const width = await page.evaluate('document.documentElement.scrollWidth');
      expect(width, heading).toBeLessThanOrEqual(360);
      await c.expectAccessible(page, `phone-${heading.toLowerCase().replace(/ /g, '-')}`);
    }
  });

  it("at 360 px the audit log's events are cards: every column in view, nothing scrolls sideways", async () => {
    const session = await demoAdmin();
    const jane = await repsAndCustomers(session);
    await session.read('POST', '/api/organizations/salesreps/deactivate', {
      organizationSalesRepId: jane.organizationSalesRepId,
    });
    const page = session.pages.phone;
    await page.getByRole('link', { name: 'Audit log' }).click();
    const deactivated = page.getByRole('row').filter({ hasText: 'sales_rep.deactivated' });
    await expect.poll(() => deactivated.textContent()).toContain('active: true → false');
    await c.expectTableFits(page, 'Audit log events', 'phone');
  });

  it('sign-out ends the session at the provider and comes back to "You are signed out" with one action', async () => {
    const admin = (await demoAdmin()).pages.desktop;
    await admin.getByRole('button', { name: 'Sign out' }).click();
    await admin.getByRole('button', { name: 'Yes, sign me out' }).click();
    // Back in the console, which says so and waits, with one way on.
    await admin.getByRole('heading', { name: 'You are signed out' }).waitFor();
    expect(await admin.getByRole('button').allTextContents()).toEqual(['Sign in']);
    await admin.getByRole('button', { name: 'Sign in' }).click();
    await admin.getByLabel('Email').waitFor();
    expect(admin.url()).toContain('/signin/interaction/');
  });
});
