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
import { openTestDatabase, type TestDatabase } from '../support/databases.js';
import { freePort } from '../support/ports.js';

vi.setConfig({ testTimeout: 90_000, hookTimeout: 120_000 });

const PASSWORD = 'granite orchard pelican 58';
// The console renews a minute before expiry: with 65 s tokens, every token is due for renewal after 5 s.
const TOKEN_TTL_SECONDS = 65;
const RENEWAL_DUE_MS = 5_500;

/**
 * The console's session: the access token lives in memory and is renewed by the rotating refresh token before it
 * expires; an admin whose access was taken away is shown a clear page at the renewal the provider refuses. One
 * engine (PGlite): the rules are the browser's and the provider's; the journey runs on both.
 */
describe('the console session (renewal by refresh token)', () => {
  let browser: Browser;
  let service: Service;
  let database: TestDatabase;
  let dataDir: string;
  let page: Page;
  const tokenGrants: string[] = [];

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'salesreps-session-'));
    const port = await freePort();
    database = await openTestDatabase('pglite');
    service = await createService(
      loadConfig({
        DATA_DIR: dataDir,
        HOST: '127.0.0.1',
        PORT: String(port),
        PASSWORD_SCRYPT_LOG2_N: '14',
        SIGNIN_ACCESS_TOKEN_TTL_SECONDS: String(TOKEN_TTL_SECONDS),
      }),
      { database, log: false },
    );
    await service.app.listen({ host: '127.0.0.1', port });
    await createOrganization(database.db, { name: 'Session Supply', identityOrganizationId: 'org_session' });
    const { link } = await (service.signin as Signin).inviteAdmin({
      identityOrganizationId: 'org_session',
      email: 'admin@session.example',
    });
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('request', (request) => {
      if (request.url().endsWith('/oidc/token')) {
        tokenGrants.push(new URLSearchParams(request.postData() ?? '').get('grant_type') ?? '');
      }
    });
    await page.goto(link as string);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Set password' }).click();
    // The same person is an admin of a second organization too: the console switches between the two.
    await createOrganization(database.db, { name: 'Second Supply', identityOrganizationId: 'org_second' });
    await (service.signin as Signin).inviteAdmin({
      identityOrganizationId: 'org_second',
      email: 'admin@session.example',
    });
    await page.getByRole('link', { name: 'open the console' }).click();
    await page.getByLabel('Email').fill('admin@session.example');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Organization').selectOption({ label: 'Session Supply' });
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Sales reps' }).waitFor();
    await page.getByText('Session Supply · Admin').waitFor();
  });
  afterAll(async () => {
    await browser?.close();
    await service?.close();
    await database?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('an access token about to expire is renewed by the refresh token before the next request, without a page', async () => {
    expect(tokenGrants).toEqual(['authorization_code']);
    await page.waitForTimeout(RENEWAL_DUE_MS);
    const answered = page.waitForResponse((response) => response.url().includes('sortOn=Email'));
    await page.getByRole('button', { name: 'Email' }).click();
    expect((await answered).status()).toBe(200);
    expect(tokenGrants).toEqual(['authorization_code', 'refresh_token']);
    tokenGrants.length = 0;
    // No page was loaded: still the console, its view (the sort just chosen) in the query.
    expect(new URL(page.url()).pathname).toBe('/console/');
  });

  it('"Switch organization" offers the organizations again, though the provider\'s session would sign in to the last', async () => {
    await page.getByRole('button', { name: 'Switch organization' }).click();
    await page.getByLabel('Organization').selectOption({ label: 'Second Supply' });
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText('Second Supply · Admin').waitFor();
    // A reload signs in silently to the organization chosen last, through the provider's session.
    await page.reload();
    await page.getByText('Second Supply · Admin').waitFor();
    await page.getByRole('button', { name: 'Switch organization' }).click();
    await page.getByLabel('Organization').selectOption({ label: 'Session Supply' });
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText('Session Supply · Admin').waitFor();
  });

  it('an admin whose access was taken away is shown why, and the refusal page offers another account', async () => {
    await database.db
      .deleteFrom('idp_membership')
      .where('identity_organization_id', '=', 'org_session')
      .execute();
    await page.waitForTimeout(RENEWAL_DUE_MS);
    await page.getByRole('button', { name: 'Phone number' }).click();
    await page.getByRole('heading', { name: 'Access ended' }).waitFor();
    expect(await page.getByRole('alert').textContent()).toContain(
      'Your access to this organization has ended',
    );
    expect(tokenGrants.at(-1)).toBe('refresh_token');
    // The session ended for this organization only: a new sign-in to it is refused, with no code.
    expect(await violations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Sign in again' }).click();
    // The provider's session still knows the person: it refuses with its page and issues no code.
    await page.getByRole('heading', { name: 'No access' }).waitFor();
    expect(await page.locator('body').textContent()).toContain(
      'Your account has no access to this organization',
    );
    expect(page.url()).not.toContain('code=');
    // Not a dead end: the person signs out there and comes back to the console's sign-in, for another account.
    await page.getByRole('link', { name: 'Sign out and use another account' }).click();
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.getByLabel('Email').waitFor();
    expect(page.url()).toContain('/signin/interaction/');
  });
});
