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

  it('no page threw a script error or logged one along the way', () => {
    expect(scriptErrors).toEqual([]);
  });
});
