import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createService, type Service } from '../../src/main.js';
import { createOrganization } from '../../src/organizations/service.js';
import type { Signin } from '../../src/signin/runtime.js';
import { launchChromium, violations } from '../support/browser.js';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../support/databases.js';
import { mailedLink } from '../support/mail.js';
import { freePort } from '../support/ports.js';

vi.setConfig({ testTimeout: 90_000, hookTimeout: 180_000 });

const PASSWORD = 'cobalt meadow lantern 31';
const REP_PASSWORD = 'amber willow signal 58';
const ADMIN_EMAIL = 'ada@demo.example';
const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS;
const SIZES = { desktop: { width: 1280, height: 800 }, phone: { width: 360, height: 740 } } as const;
type Size = keyof typeof SIZES;
/** Reps numbered T-01 … T-30 besides the named ones: three pages of ten. */
const NUMBERED_REPS = 30;

/**
 * The console's reps and customers as an admin runs them (issue 26: sign-in state, customers assigned in the page,
 * the view in the URL, the reps table at 360 px), in Chromium at 1280 × 800 and 360 × 740, axe-core on each state.
 */
describe.each(databaseKinds)("the console's reps, customers and views on %s", (kind) => {
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

  const api = async (method: 'GET' | 'PUT' | 'POST', url: string, payload?: object) => {
    const response = await service.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${adminToken}` },
      ...(payload ? { payload } : {}),
    });
    expect(response.statusCode, response.body).toBeLessThan(300);
    return response.body ? (response.json() as unknown) : undefined;
  };
  const addRep = (repNumber: string, firstName: string, lastName: string) =>
    api('PUT', '/api/organizations/salesreps', {
      firstName,
      lastName,
      email: `${firstName}.${lastName.replaceAll(' ', '')}@demo.example`.toLowerCase(),
      repNumber,
    }) as Promise<{ organizationSalesRepId: string; identityProviderUserId: string }>;
  const customer = async (customerNumber: string) =>
    (await api('GET', `/api/customers/${customerNumber}`)) as { repNumber: string | null };

  const signIn = async (page: Page, email: string, password: string) => {
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };
  const repRow = (page: Page, name: string) => page.getByRole('row').filter({ hasText: name });

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'salesreps-console-state-'));
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    database = await openTestDatabase(kind);
    service = await createService(
      loadConfig({
        DATA_DIR: dataDir,
        HOST: '127.0.0.1',
        PORT: String(port),
        PASSWORD_SCRYPT_LOG2_N: '14',
        RATE_LIMIT_MAX: '100000',
      }),
      { database, log: false },
    );
    await service.app.listen({ host: '127.0.0.1', port });
    await createOrganization(database.db, { name: 'Demo Distributors', identityOrganizationId: 'org_demo' });
    const { link } = await (service.signin as Signin).inviteAdmin({
      identityOrganizationId: 'org_demo',
      email: ADMIN_EMAIL,
    });
    adminToken = await (service.localIssuer as NonNullable<Service['localIssuer']>).sign(
      { userId: 'admin_setup', organization: 'org_demo', roles: ['Admin'] },
      600,
    );
    await addRep('REP-001', 'Jane', 'Smith');
    await addRep('REP-002', 'Omar', 'Quinn');
    for (let n = 1; n <= NUMBERED_REPS; n++) {
      await addRep(`T-${String(n).padStart(2, '0')}`, 'Test', `Person ${String(n).padStart(2, '0')}`);
    }
    await api('PUT', '/api/customers', [
      { customerNumber: 'C-1', companyName: 'Contoso', repNumber: 'REP-001' },
      { customerNumber: 'C-2', companyName: 'Fabrikam', repNumber: 'REP-001' },
      { customerNumber: 'C-3', companyName: 'Northwind', repNumber: 'REP-404' },
    ]);

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
    for (const page of Object.values(pages)) {
      await page.goto(`${publicUrl}/console/`);
      await signIn(page, ADMIN_EMAIL, PASSWORD);
      await page.getByRole('heading', { name: 'Sales reps' }).waitFor();
    }
  });
  afterAll(async () => {
    await browser?.close();
    await service?.close();
    await database?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('each page has its own title: the page, then the organization by name', async () => {
    const page = pages.desktop;
    await expect.poll(() => page.title()).toBe('Sales reps · Demo Distributors');
    for (const [link, title] of [
      ['Customers', 'Customers · Demo Distributors'],
      ['Side effects', 'Side effects · Demo Distributors'],
      ['Audit log', 'Audit log · Demo Distributors'],
      ['Sales reps', 'Sales reps · Demo Distributors'],
    ] as const) {
      await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: link }).click();
      await expect.poll(() => page.title()).toBe(title);
    }
  });

  it('a rep is "Invited" with its link\'s expiry, then "Signed in" after its first sign-in; Resend only where it works', async () => {
    const page = pages.desktop;
    await mailedLink(dataDir, 'jane.smith@demo.example');
    await page.goto(`${publicUrl}/console/?search=jane`);
    const jane = repRow(page, 'jane.smith@demo.example');
    await expect.poll(() => jane.textContent()).toMatch(/Invited · link expires \d{1,2} [A-Z][a-z]{2}/);
    await jane.getByRole('button', { name: 'Actions for Jane Smith' }).click();
    expect(await page.getByRole('button', { name: 'Resend invitation' }).count()).toBe(1);
    await page.keyboard.press('Escape');
    await expectAccessible(page, 'desktop-reps-sign-in-state');

    // The rep's first sign-in, in a browser of its own.
    const repContext = await browser.newContext({ viewport: SIZES.desktop });
    const rep = await repContext.newPage();
    await rep.goto(await mailedLink(dataDir, 'jane.smith@demo.example'));
    await rep.getByLabel('Password').fill(REP_PASSWORD);
    await rep.getByRole('button', { name: 'Set password' }).click();
    await rep.getByRole('link', { name: 'open the console' }).click();
    await signIn(rep, 'jane.smith@demo.example', REP_PASSWORD);
    await rep.getByRole('heading', { name: 'My customers' }).waitFor();
    await repContext.close();

    await page.reload();
    await expect.poll(() => jane.textContent()).toContain('Signed in · just now');
    // The exact time is on hover.
    expect(await jane.locator('time[title]').first().getAttribute('title')).toMatch(/\d{4}, \d{2}:\d{2} /);
    await jane.getByRole('button', { name: 'Actions for Jane Smith' }).click();
    expect(await page.getByRole('button', { name: 'Resend invitation' }).count()).toBe(0);
    await page.keyboard.press('Escape');
  });

  it('an expired invitation and a deactivated rep say so; neither offers what cannot work', async () => {
    const page = pages.desktop;
    const omar = (await api('GET', '/api/organizations/salesreps?search=omar&include=signIn')) as {
      organizationSalesRepId: string;
    }[];
    await mailedLink(dataDir, 'omar.quinn@demo.example');
    const omarAccount = await database.db
      .selectFrom('sales_rep')
      .select('identity_provider_user_id')
      .where('email', '=', 'omar.quinn@demo.example')
      .executeTakeFirstOrThrow();
    // Its week passes.
    await database.db
      .updateTable('signin_link')
      .set({ expires_at: new Date(Date.now() - 60_000) })
      .where('account_id', '=', omarAccount.identity_provider_user_id)
      .execute();
    const first = (await api('GET', '/api/organizations/salesreps?search=T-01')) as {
      organizationSalesRepId: string;
    }[];
    await api('POST', '/api/organizations/salesreps/deactivate', {
      organizationSalesRepId: first[0]?.organizationSalesRepId,
    });
    await page.goto(`${publicUrl}/console/?search=omar`);
    await expect
      .poll(() => repRow(page, 'omar.quinn@demo.example').textContent())
      .toContain('Invitation expired');
    expect(omar).toHaveLength(1);
    await repRow(page, 'omar.quinn@demo.example')
      .getByRole('button', { name: 'Actions for Omar Quinn' })
      .click();
    expect(await page.getByRole('button', { name: 'Resend invitation' }).count()).toBe(1);
    await page.keyboard.press('Escape');

    await page.goto(`${publicUrl}/console/?search=T-01`);
    const inactive = repRow(page, 'test.person01@demo.example');
    await expect.poll(() => inactive.textContent()).toContain('Inactive');
    await inactive.getByRole('button', { name: 'Actions for Test Person 01' }).click();
    expect(await page.getByRole('button', { name: 'Resend invitation' }).count()).toBe(0);
    await page.keyboard.press('Escape');
  });

  it('the customers list names each rep beside its number and flags a number no rep has', async () => {
    const page = pages.desktop;
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Customers' }).click();
    const contoso = page.getByRole('row').filter({ hasText: 'Contoso' });
    await expect.poll(() => contoso.textContent()).toContain('Jane Smith REP-001');
    const northwind = page.getByRole('row').filter({ hasText: 'Northwind' });
    await expect.poll(() => northwind.textContent()).toContain('REP-404 No rep has this number');
    await expectAccessible(page, 'desktop-customers-reps');
  });

  it('a customer is reassigned from its detail view with the "Sales rep" picker, found by name', async () => {
    const page = pages.desktop;
    await page.getByRole('button', { name: 'Show customer C-1' }).click();
    const dialog = page.getByRole('dialog', { name: 'Customer C-1' });
    await expect.poll(() => dialog.textContent()).toContain('Jane Smith');
    await dialog.getByRole('button', { name: 'Change sales rep' }).click();
    const picker = dialog.getByRole('group', { name: 'Sales rep' });
    await picker.getByLabel('Find a rep by name, email or rep number').fill('Omar');
    await picker.getByRole('radio', { name: 'Omar Quinn (REP-002)' }).check();
    await expectAccessible(page, 'desktop-customer-sales-rep-picker');
    await dialog.getByRole('button', { name: 'Save sales rep' }).click();
    await expect.poll(() => dialog.textContent()).toContain('Contoso is assigned to REP-002 now.');
    await expect.poll(async () => (await customer('C-1')).repNumber).toBe('REP-002');
    await expect.poll(() => dialog.textContent()).toContain('Omar Quinn');
    // The open record is in the URL: a reload shows it again.
    expect(new URL(page.url()).searchParams.get('customer')).toBe('C-1');
    await page.reload();
    await page.getByRole('dialog', { name: 'Customer C-1' }).getByText('Omar Quinn').waitFor();
    await page.getByRole('dialog', { name: 'Customer C-1' }).getByRole('button', { name: 'Close' }).click();
    expect(new URL(page.url()).searchParams.get('customer')).toBeNull();
  });

  it('customers chosen in the list are assigned to a rep together with "Assign to…"', async () => {
    const page = pages.desktop;
    await page.getByRole('checkbox', { name: 'Select Fabrikam (C-2)' }).check();
    await page.getByRole('checkbox', { name: 'Select Northwind (C-3)' }).check();
    await page.getByRole('button', { name: 'Assign to… (2)' }).click();
    const dialog = page.getByRole('dialog', { name: 'Assign 2 customers to a rep' });
    await dialog.getByLabel('Find a rep by name, email or rep number').fill('REP-002');
    await dialog.getByRole('radio', { name: 'Omar Quinn (REP-002)' }).check();
    await dialog.getByRole('button', { name: 'Assign 2 customers' }).click();
    await page.getByText('2 customers are assigned to REP-002 now.').waitFor();
    expect((await customer('C-2')).repNumber).toBe('REP-002');
    expect((await customer('C-3')).repNumber).toBe('REP-002');
    expect((await customer('C-1')).repNumber).toBe('REP-002');
  });

  it('a reload keeps the reps view (search, sort, page, page size); Back and Forward step through it', async () => {
    const page = pages.desktop;
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Sales reps' }).click();
    await page.getByLabel('Search reps').fill('T-');
    await expect.poll(() => page.getByRole('navigation', { name: 'Pages' }).textContent()).toContain('of 30');
    await page.getByLabel('Rows per page').selectOption('10');
    await page.getByRole('button', { name: 'Rep number' }).click();
    await page.getByRole('button', { name: 'Rep number' }).click();
    await expect.poll(() => page.getByRole('row').nth(1).textContent()).toContain('T-30');
    await page.getByRole('button', { name: 'Next' }).click();
    await expect.poll(() => page.getByRole('row').nth(1).textContent()).toContain('T-20');
    const query = new URL(page.url()).searchParams;
    expect(Object.fromEntries(query)).toEqual({
      search: 'T-',
      pageSize: '10',
      sortOn: 'RepNumber',
      sortDirection: 'desc',
      page: '2',
    });

    await page.reload();
    await expect.poll(() => page.getByRole('row').nth(1).textContent()).toContain('T-20');
    expect(await page.getByLabel('Search reps').inputValue()).toBe('T-');
    expect(await page.getByLabel('Rows per page').inputValue()).toBe('10');
    expect(await page.getByRole('columnheader', { name: 'Rep number' }).getAttribute('aria-sort')).toBe(
      'descending',
    );
    expect(await page.getByRole('navigation', { name: 'Pages' }).textContent()).toContain('11–20 of 30');

    await page.goBack();
    await expect.poll(() => page.getByRole('row').nth(1).textContent()).toContain('T-30');
    expect(await page.getByRole('navigation', { name: 'Pages' }).textContent()).toContain('1–10 of 30');
    await page.goForward();
    await expect.poll(() => page.getByRole('row').nth(1).textContent()).toContain('T-20');

    // A shared link opens the same view in another browser of the same admin.
    await pages.phone.goto(page.url());
    await expect.poll(() => pages.phone.getByRole('row').nth(1).textContent()).toContain('T-20');
    expect(await pages.phone.getByLabel('Search reps').inputValue()).toBe('T-');
  });

  it("at 360 px a rep's name stays in view beside its actions, nothing scrolls sideways; axe finds nothing", async () => {
    const page = pages.phone;
    await page.goto(`${publicUrl}/console/?search=jane`);
    const jane = repRow(page, 'jane.smith@demo.example');
    await expect.poll(() => jane.textContent()).toContain('Signed in');
    const viewport = { x: 0, y: 0, ...SIZES.phone };
    for (const part of [
      jane.getByText('Jane', { exact: true }),
      jane.getByRole('button', { name: 'Actions for Jane Smith' }),
    ]) {
      const box = await part.boundingBox();
      expect(box).not.toBeNull();
      const { x, width } = box as NonNullable<typeof box>;
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x + width).toBeLessThanOrEqual(viewport.width);
    }
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(
      SIZES.phone.width,
    );
    expect(
      await page.locator('.table-wrap').evaluate((element) => element.scrollWidth <= element.clientWidth + 1),
    ).toBe(true);
    await expectAccessible(page, 'phone-reps-sign-in-state');
    await page.goto(`${publicUrl}/console/customers`);
    await page.getByRole('row').filter({ hasText: 'Contoso' }).waitFor();
    await expect
      .poll(() => page.getByRole('row').filter({ hasText: 'Contoso' }).textContent())
      .toContain('Omar Quinn');
    await expectAccessible(page, 'phone-customers-reps');
  });

  it('no page threw a script error or logged one along the way', () => {
    expect(scriptErrors).toEqual([]);
  });
});
