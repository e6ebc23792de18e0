import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openLocalIssuer } from '../../src/auth/local-issuer.js';
import { loadConfig } from '../../src/config.js';
import type { Organization } from '../../src/db/schema.js';
import { newId } from '../../src/kernel/ids.js';
import { createService, type Service } from '../../src/main.js';
import { createOrganization } from '../../src/organizations/service.js';
import { addClient } from '../../src/signin/service.js';
import { focusedText, launchChromium, violations } from '../support/browser.js';
import { openTestDatabase, type TestDatabase } from '../support/databases.js';
import { REPS_URL } from '../support/fixtures.js';
import { mailedLink } from '../support/mail.js';
import { freePort } from '../support/ports.js';
import { GOOD_PASSWORD } from './support.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 120_000 });

describe('the sign-in pages in Chromium', () => {
  let browser: Browser;
  let service: Service;
  let database: TestDatabase;
  let dataDir: string;
  let publicUrl: string;
  let organization: Organization;
  let admin: string;
  /** The relying party's callback: a real server, since a browser's redirects cannot be intercepted. */
  let callbackServer: http.Server;
  let REDIRECT_URI: string;
  const callbacks: string[] = [];

  const addRep = async (email: string) => {
    const response = await service.app.inject({
      method: 'PUT',
      url: REPS_URL,
      headers: { authorization: `Bearer ${admin}` },
      payload: { firstName: 'Page', lastName: 'Tester', email, repNumber: `P-${newId().slice(0, 6)}` },
    });
    expect(response.statusCode, response.body).toBe(200);
  };
  const authorizationUrl = () =>
    `${publicUrl}/oidc/auth?${new URLSearchParams({
      client_id: 'pages-app',
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      scope: 'openid',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      state: 'state-1',
    })}`;

  beforeAll(async () => {
    const callbackPort = await freePort();
    REDIRECT_URI = `http://localhost:${callbackPort}/callback`;
    callbackServer = http.createServer((request, response) => {
      if (request.url?.startsWith('/callback'))
        callbacks.push(`http://localhost:${callbackPort}${request.url}`);
      response.writeHead(200, { 'content-type': 'text/html' }).end('<title>back</title>');
    });
    await new Promise<void>((resolve) => callbackServer.listen(callbackPort, '127.0.0.1', resolve));
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'salesreps-pages-'));
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    const config = loadConfig({
      DATA_DIR: dataDir,
      PORT: String(port),
      PASSWORD_SCRYPT_LOG2_N: '14',
      EFFECTS_POLL_MS: '20',
    });
    database = await openTestDatabase('pglite');
    service = await createService(config, { database, log: false });
    await service.app.listen({ host: '127.0.0.1', port });
    await addClient(database.db, { id: 'pages-app', redirectUris: [REDIRECT_URI] });
    organization = await createOrganization(database.db, {
      name: 'Page Supply',
      identityOrganizationId: 'org_pages',
    });
    const issuer = await openLocalIssuer(config.auth);
    admin = await issuer.sign(
      { userId: 'admin-1', organization: organization.identity_organization_id, roles: ['Admin'] },
      600,
    );
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    callbackServer?.close();
    await service?.close();
    await database?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('the invitation page has a labelled password field, no axe violations, and works with the keyboard alone', async () => {
    await addRep('keyboard.rep@example.com');
    const page = await browser.newPage();
    await page.goto(await mailedLink(dataDir, 'keyboard.rep@example.com'));
    expect(await page.getByLabel('Password').count()).toBe(1);
    expect(await violations(page)).toEqual([]);
    // The password field has the focus; Enter submits.
    await page.keyboard.type('short');
    await page.keyboard.press('Enter');
    await page.waitForLoadState();
    expect(await page.getByRole('alert').textContent()).toContain('at least 15 characters');
    expect(await violations(page)).toEqual([]);
    await page.getByLabel('Password').focus();
    await page.keyboard.type(GOOD_PASSWORD);
    await page.keyboard.press('Tab');
    expect(await focusedText(page)).toBe('Set password');
    await page.keyboard.press('Enter');
    await page.locator('h1', { hasText: 'Password set' }).waitFor();
    await page.close();
  });

  it('the sign-in page has fields labelled Email and Password, no axe violations, and signs in by keyboard', async () => {
    const page = await browser.newPage();
    await page.goto(authorizationUrl());
    expect(await page.getByLabel('Email').getAttribute('type')).toBe('email');
    expect(await page.getByLabel('Password').getAttribute('type')).toBe('password');
    expect(await violations(page)).toEqual([]);
    // Email has the focus; Tab goes to Password, then to the button.
    await page.keyboard.type('keyboard.rep@example.com');
    await page.keyboard.press('Tab');
    await page.keyboard.type('wrong password for sure');
    await page.keyboard.press('Enter');
    await page.waitForLoadState();
    expect(await page.getByRole('alert').textContent()).toBe('The email or the password is not right.');
    expect(await violations(page)).toEqual([]);
    // The email is kept and the focus is on Password.
    await page.keyboard.type(GOOD_PASSWORD);
    await page.keyboard.press('Tab');
    expect(await focusedText(page)).toBe('Sign in');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${REDIRECT_URI}**`);
    expect(callbacks.at(-1)).toMatch(/\/callback\?code=[^&]+&state=state-1/);
    await page.close();
  });

  it('the reset page, the expired link page and the organization chooser have no axe violations', async () => {
    const page = await browser.newPage();
    await page.goto(`${publicUrl}/signin/reset`);
    expect(await page.getByLabel('Email').count()).toBe(1);
    expect(await violations(page)).toEqual([]);
    await page.goto(`${publicUrl}/signin/link/not-a-valid-token`);
    expect(await page.locator('h1').textContent()).toBe('This link does not work any more');
    expect(await violations(page)).toEqual([]);

    const second = await createOrganization(database.db, {
      name: 'Other Page Supply',
      identityOrganizationId: 'org_pages_2',
    });
    await database.db
      .insertInto('idp_membership')
      .values({
        account_id: (
          await database.db
            .selectFrom('idp_account')
            .select('id')
            .where('email', '=', 'keyboard.rep@example.com')
            .executeTakeFirstOrThrow()
        ).id,
        identity_organization_id: second.identity_organization_id,
        roles: ['Admin'],
      })
      .execute();
    await page.goto(authorizationUrl());
    await page.getByLabel('Email').fill('keyboard.rep@example.com');
    await page.getByLabel('Password').fill(GOOD_PASSWORD);
    await page.keyboard.press('Enter');
    await page.waitForSelector('select');
    expect(await page.locator('h1').textContent()).toBe('Choose an organization');
    expect(await page.getByLabel('Organization').count()).toBe(1);
    expect(await violations(page)).toEqual([]);
    // A select does not submit on Enter: Tab to the button.
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${REDIRECT_URI}**`);
    await page.close();
  });
});
