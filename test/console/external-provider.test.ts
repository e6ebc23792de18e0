import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createService, type Service } from '../../src/main.js';
import { createOrganization } from '../../src/organizations/service.js';
import type { Signin } from '../../src/signin/runtime.js';
import { addClient } from '../../src/signin/service.js';
import { launchChromium, violations } from '../support/browser.js';
import { openTestDatabase, type TestDatabase } from '../support/databases.js';
import { freePort } from '../support/ports.js';

vi.setConfig({ testTimeout: 90_000, hookTimeout: 120_000 });

const PASSWORD = 'copper willow station 19';

/**
 * With AUTH_JWKS_URL (Kinde in production) the console signs in at that provider through its discovery document,
 * as CONSOLE_OIDC_CLIENT_ID's client. The external provider here is a real OpenID provider on another origin:
 * a second instance of this service with its embedded sign-in, where the console's client is registered. One
 * engine (PGlite) for both: the rule is about the browser's cross-origin flow, not the database.
 */
describe('the console with an external OpenID provider (AUTH_JWKS_URL, CONSOLE_OIDC_CLIENT_ID)', () => {
  let browser: Browser;
  let provider: Service;
  let service: Service;
  const databases: TestDatabase[] = [];
  const dirs: string[] = [];
  let serviceUrl: string;
  let providerUrl: string;
  let invitation: string;

  beforeAll(async () => {
    const [providerPort, servicePort] = [await freePort(), await freePort()];
    providerUrl = `http://127.0.0.1:${providerPort}`;
    serviceUrl = `http://localhost:${servicePort}`;
    const dir = () => {
      const made = fs.mkdtempSync(path.join(os.tmpdir(), 'salesreps-external-'));
      dirs.push(made);
      return made;
    };
    const open = async () => {
      const database = await openTestDatabase('pglite');
      databases.push(database);
      return database;
    };

    const providerDb = await open();
    provider = await createService(
      loadConfig({ DATA_DIR: dir(), PORT: String(providerPort), PASSWORD_SCRYPT_LOG2_N: '14' }),
      { database: providerDb, log: false },
    );
    await provider.app.listen({ host: '127.0.0.1', port: providerPort });
    await addClient(providerDb.db, { id: 'console-elsewhere', redirectUris: [`${serviceUrl}/console/`] });
    await createOrganization(providerDb.db, {
      name: 'Acme at the provider',
      identityOrganizationId: 'org_acme',
    });
    const invited = await (provider.signin as Signin).inviteAdmin({
      identityOrganizationId: 'org_acme',
      email: 'admin@acme.example',
    });
    invitation = invited.link as string;

    const serviceDb = await open();
    service = await createService(
      loadConfig({
        DATA_DIR: dir(),
        HOST: 'localhost',
        PORT: String(servicePort),
        AUTH_JWKS_URL: `${providerUrl}/oidc/jwks`,
        AUTH_ISSUER: providerUrl,
        CONSOLE_OIDC_CLIENT_ID: 'console-elsewhere',
      }),
      { database: serviceDb, log: false },
    );
    await service.app.listen({ host: '127.0.0.1', port: servicePort });
    await createOrganization(serviceDb.db, { name: 'Acme', identityOrganizationId: 'org_acme' });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await service?.close();
    await provider?.close();
    for (const database of databases) await database.close();
    for (const made of dirs) fs.rmSync(made, { recursive: true, force: true });
  });

  it('serves no sign-in of its own, and the console signs in at the provider and calls this API with its token', async () => {
    const discovery = await service.app.inject({ url: '/.well-known/openid-configuration' });
    expect(discovery.statusCode).toBe(404);

    const page = await browser.newPage();
    await page.goto(invitation);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByRole('heading', { name: 'Password set' }).waitFor();

    await page.goto(`${serviceUrl}/console/`);
    await page.getByLabel('Email').waitFor();
    expect(new URL(page.url()).origin).toBe(providerUrl);
    await page.getByLabel('Email').fill('admin@acme.example');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Sales reps' }).waitFor();
    expect(page.url()).toBe(`${serviceUrl}/console/`);
    await page.getByText('No sales reps yet.', { exact: false }).waitFor();
    expect(await violations(page)).toEqual([]);
    await page.close();
  });

  it('the "Single sign-on" page says that enterprise connections are set up at the provider (409 sso-managed-externally)', async () => {
    const page = await browser.newPage();
    await page.goto(`${serviceUrl}/console/`);
    await page.getByLabel('Email').fill('admin@acme.example');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Single sign-on' }).click();
    await page.getByRole('heading', { name: 'Set up at your identity provider' }).waitFor();
    await page.getByText('Settings → Authentication → Enterprise connections', { exact: false }).waitFor();
    // No form that the API would refuse.
    expect(await page.getByRole('form').count()).toBe(0);
    expect(await violations(page)).toEqual([]);
    await page.close();
  });
});
