import type { Page } from 'playwright-core';
import { describe, expect, it, vi } from 'vitest';
import { consoleTest, inside, SIZE_NAMES, SIZES } from '../support/console.js';
import { databaseKinds } from '../support/databases.js';
import { mailedLink } from '../support/mail.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 180_000 });

const REP_PASSWORD = 'amber willow signal 58';
/** Reps numbered T-01 … T-30 besides the named ones: three pages of ten. */
const NUMBERED_REPS = 30;

/**
 * The console's reps and customers as an admin runs them (sign-in state, customers assigned in the page, the view
 * in the URL, the reps table at 360 px), in Chromium at 1280 × 800 and 360 × 740, axe-core on each state.
 */
describe.each(databaseKinds)("the console's reps, customers and views on %s", (kind) => {
  const c = consoleTest(kind, { env: { RATE_LIMIT_MAX: '100000' } });

  const repRow = (page: Page, name: string) => page.getByRole('row').filter({ hasText: name });

  /**
   * Demo Distributors' admin, signed in, with Jane Smith (REP-001), Omar Quinn (REP-002) and, with `numbered`, the
   * reps T-01 … T-30; customers C-1 and C-2 of REP-001 and C-3 of a number no rep has.
   */
  const demo = async ({ numbered = false } = {}) => {
    const admin = await c.signedInAdmin({ organizationName: 'Demo Distributors', domain: 'demo.example' });
    const jane = await admin.addRep('REP-001', 'Jane', 'Smith');
    const omar = await admin.addRep('REP-002', 'Omar', 'Quinn');
    const numberedReps = [];
    for (let n = 1; numbered && n <= NUMBERED_REPS; n++) {
      numberedReps.push(
        await admin.addRep(`T-${String(n).padStart(2, '0')}`, 'Test', `Person ${String(n).padStart(2, '0')}`),
      );
    }
    await admin.read('PUT', '/api/customers', [
      { customerNumber: 'C-1', companyName: 'Contoso', repNumber: 'REP-001' },
      { customerNumber: 'C-2', companyName: 'Fabrikam', repNumber: 'REP-001' },
      { customerNumber: 'C-3', companyName: 'Northwind', repNumber: 'REP-404' },
    ]);
    const customer = (customerNumber: string) =>
      admin.read<{ repNumber: string | null }>('GET', `/api/customers/${customerNumber}`);
    return { admin, jane, omar, numberedReps, customer };
  };

  /** The rep's first sign-in, in a browser of its own. */
  const firstSignIn = async (email: string) => (await c.repSignsIn(email, REP_PASSWORD)).context().close();

  const openCustomers = (page: Page) =>
    page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Customers' }).click();

  it('each page has its own title: the page, then the organization by name', async () => {
    const { admin } = await demo();
    const page = admin.pages.desktop;
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
    const { admin, jane: added } = await demo();
    const page = admin.pages.desktop;
    await mailedLink(c.dataDir, added.email);
    await page.goto(`${c.publicUrl}/console/?search=jane`);
    const jane = repRow(page, added.email);
    await expect.poll(() => jane.textContent()).toMatch(/Invited · link expires \d{1,2} [A-Z][a-z]{2}/);
    await jane.getByRole('button', { name: 'Actions for Jane Smith' }).click();
    expect(await page.getByRole('button', { name: 'Resend invitation' }).count()).toBe(1);
    await page.keyboard.press('Escape');
    await c.expectAccessible(page, 'desktop-reps-sign-in-state');

    // The rep's first sign-in, in a browser of its own.
    await firstSignIn(added.email);

    await page.reload();
    await expect.poll(() => jane.textContent()).toContain('Signed in · just now');
    // The exact time is on hover.
    expect(await jane.locator('time[title]').first().getAttribute('title')).toMatch(/\d{4}, \d{2}:\d{2} /);
    await jane.getByRole('button', { name: 'Actions for Jane Smith' }).click();
    expect(await page.getByRole('button', { name: 'Resend invitation' }).count()).toBe(0);
    await page.keyboard.press('Escape');
  });

  it('where the reps sign in at Kinde (state "unknown"), an active rep says so in words, on one line, with no invitation to resend', async () => {
    const { admin, jane } = await demo();
    for (const size of SIZE_NAMES) {
      const page = admin.pages[size];
      // The list as a service with IDP=kinde answers it (test/salesreps/sign-in-state.test.ts): it knows no sign-in.
      await page.route('**/api/organizations/salesreps?*', async (route) => {
        const response = await route.fetch();
        const reps = (await response.json()) as { active: boolean; signIn?: object }[];
        const unknown = {
          state: 'unknown',
          invitationExpiresAt: null,
          lastSignedInAt: null,
          canResendInvitation: false,
        };
        await route.fulfill({
          response,
          json: reps.map((rep) => (rep.active && rep.signIn ? { ...rep, signIn: unknown } : rep)),
        });
      });
      await page.goto(`${c.publicUrl}/console/?search=jane`);
      const row = repRow(page, jane.email);
      const words = 'Active · signs in at your IdP';
      await expect.poll(() => row.textContent()).toContain(words);
      // A status badge never wraps, and its column (its card's line at 360 px) is wide enough for it.
      const state = row.getByText(words);
      expect(await state.evaluate((element) => element.getClientRects().length), `${size}: lines`).toBe(1);
      const badge = await state.boundingBox();
      const cell = await row.getByRole('cell').filter({ hasText: words }).boundingBox();
      expect(inside(badge as NonNullable<typeof badge>, cell as NonNullable<typeof cell>), size).toBe(true);
      await c.expectFits(page, size);
      await row.getByRole('button', { name: 'Actions for Jane Smith' }).click();
      expect(await page.getByRole('button', { name: 'Resend invitation' }).count()).toBe(0);
      await page.keyboard.press('Escape');
      await c.expectAccessible(page, `${size}-reps-sign-in-unknown`);
    }
  });

  it('an expired invitation and a deactivated rep say so; neither offers what cannot work', async () => {
    const { admin, omar: added, numberedReps } = await demo({ numbered: true });
    const page = admin.pages.desktop;
    const omar = await admin.read<{ organizationSalesRepId: string }[]>(
      'GET',
      '/api/organizations/salesreps?search=omar&include=signIn',
    );
    await mailedLink(c.dataDir, added.email);
    const omarAccount = await c.database.db
      .selectFrom('sales_rep')
      .select('identity_provider_user_id')
      .where('email', '=', added.email)
      .executeTakeFirstOrThrow();
    // Its week passes.
    await c.database.db
      .updateTable('signin_link')
      .set({ expires_at: new Date(Date.now() - 60_000) })
      .where('account_id', '=', omarAccount.identity_provider_user_id)
      .execute();
    await admin.read('POST', '/api/organizations/salesreps/deactivate', {
      organizationSalesRepId: numberedReps[0]?.organizationSalesRepId,
    });
    await page.goto(`${c.publicUrl}/console/?search=omar`);
    await expect.poll(() => repRow(page, added.email).textContent()).toContain('Invitation expired');
    expect(omar).toHaveLength(1);
    await repRow(page, added.email).getByRole('button', { name: 'Actions for Omar Quinn' }).click();
    expect(await page.getByRole('button', { name: 'Resend invitation' }).count()).toBe(1);
    await page.keyboard.press('Escape');

    await page.goto(`${c.publicUrl}/console/?search=T-01`);
    const inactive = repRow(page, numberedReps[0]?.email as string);
    await expect.poll(() => inactive.textContent()).toContain('Inactive');
    await inactive.getByRole('button', { name: 'Actions for Test Person 01' }).click();
    expect(await page.getByRole('button', { name: 'Resend invitation' }).count()).toBe(0);
    await page.keyboard.press('Escape');
  });

  it('the customers list names each rep beside its number and flags a number no rep has', async () => {
    const { admin } = await demo();
    const page = admin.pages.desktop;
    await openCustomers(page);
    const contoso = page.getByRole('row').filter({ hasText: 'Contoso' });
    await expect.poll(() => contoso.textContent()).toContain('Jane Smith REP-001');
    const northwind = page.getByRole('row').filter({ hasText: 'Northwind' });
    await expect.poll(() => northwind.textContent()).toContain('REP-404 No rep has this number');
    await c.expectAccessible(page, 'desktop-customers-reps');
  });

  it('a customer is reassigned from its detail view with the "Sales rep" picker, found by name', async () => {
    const { admin, customer } = await demo();
    const page = admin.pages.desktop;
    await openCustomers(page);
    await page.getByRole('button', { name: 'Show customer C-1' }).click();
    const dialog = page.getByRole('dialog', { name: 'Customer C-1' });
    await expect.poll(() => dialog.textContent()).toContain('Jane Smith');
    await dialog.getByRole('button', { name: 'Change sales rep' }).click();
    const picker = dialog.getByRole('group', { name: 'Sales rep' });
    await picker.getByLabel('Find a rep by name, email or rep number').fill('Omar');
    await picker.getByRole('radio', { name: 'Omar Quinn (REP-002)' }).check();
    await c.expectAccessible(page, 'desktop-customer-sales-rep-picker');
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
    const { admin, customer } = await demo();
    const page = admin.pages.desktop;
    await openCustomers(page);
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
    // The customer not chosen keeps its rep.
    expect((await customer('C-1')).repNumber).toBe('REP-001');
  });

  it('a reload keeps the reps view (search, sort, page, page size); Back and Forward step through it', async () => {
    const { admin } = await demo({ numbered: true });
    const page = admin.pages.desktop;
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
    const phone = admin.pages.phone;
    await phone.goto(page.url());
    await expect.poll(() => phone.getByRole('row').nth(1).textContent()).toContain('T-20');
    expect(await phone.getByLabel('Search reps').inputValue()).toBe('T-');
  });

  it("at 360 px a rep's name stays in view beside its actions, nothing scrolls sideways; axe finds nothing", async () => {
    const { admin, jane: added } = await demo();
    await firstSignIn(added.email);
    const page = admin.pages.phone;
    await page.goto(`${c.publicUrl}/console/?search=jane`);
    const jane = repRow(page, added.email);
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
    await c.expectFits(page, 'phone');
    expect(
      await page.locator('.table-wrap').evaluate((element) => element.scrollWidth <= element.clientWidth + 1),
    ).toBe(true);
    await c.expectAccessible(page, 'phone-reps-sign-in-state');
    await page.goto(`${c.publicUrl}/console/customers`);
    await page.getByRole('row').filter({ hasText: 'Contoso' }).waitFor();
    await expect
      .poll(() => page.getByRole('row').filter({ hasText: 'Contoso' }).textContent())
      .toContain('Jane Smith');
    await c.expectAccessible(page, 'phone-customers-reps');
  });
});
