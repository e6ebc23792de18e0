import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { type Config, loadConfig } from '../../src/config.js';
import { newId } from '../../src/kernel/ids.js';
import { createService, type Service } from '../../src/main.js';
import { createOrganization } from '../../src/organizations/service.js';
import type { Signin } from '../../src/signin/runtime.js';
import { eventually } from '../effects/support/wait.js';
import { startTestIdp, type TestIdp } from '../sso/support.js';
import { launchChromium, violations } from './browser.js';
import { type DatabaseKind, openTestDatabase, type TestDatabase } from './databases.js';
import { mailedLink } from './mail.js';
import { freePort } from './ports.js';

/** The two sizes every console test looks at: a laptop and a small phone. */
export const SIZES = { desktop: { width: 1280, height: 800 }, phone: { width: 360, height: 740 } } as const;
export type Size = keyof typeof SIZES;
export const SIZE_NAMES = Object.keys(SIZES) as Size[];

/** The password every admin of these tests sets from its invitation. */
export const ADMIN_PASSWORD = 'cobalt meadow lantern 31';

const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS;

export interface ConsoleTestOptions {
  /** Configuration beside the data directory, the address and a fast password hash. */
  env?: Record<string, string>;
  /**
   * `localhost` where the test runs an identity provider at 127.0.0.1: both set cookies of the same names, which a
   * browser would share between two ports of one host.
   */
  host?: 'localhost' | '127.0.0.1';
  /** Every browser context may read and write the clipboard. */
  clipboard?: boolean;
  /** Started before the service, which may need its address (an IdP that must know the redirect URI). */
  before?: (publicUrl: string) => Promise<{ close(): Promise<void> }>;
}

export interface AdminSession {
  /** The organization's identity organization id, unique to this session. */
  identityOrganizationId: string;
  /** The domain of the admin's and its reps' addresses, the given one on the first session, then one of its own. */
  domain: string;
  email: string;
  /** An Admin token of the local issuer for the organization, for the API. */
  token: string;
  /** The admin signed in to the console at each size, each in a browser context of its own. */
  pages: Record<Size, Page>;
  /** `app.inject` with the admin's token. */
  api(
    method: 'GET' | 'PUT' | 'POST' | 'DELETE',
    url: string,
    payload?: unknown,
  ): Promise<LightMyRequestResponse>;
  /** `api` that expects a success and returns the body read as JSON. */
  read<T>(method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, payload?: unknown): Promise<T>;
  /** Connects the organization to an OpenID provider through the API, for the admin's domain. */
  connectOidc(idp: { issuer: string; clientId: string; clientSecret: string }): Promise<void>;
  /** Adds a rep through the API, as another admin would have; its email is first.last@ the admin's domain. */
  addRep(repNumber: string, firstName: string, lastName: string): Promise<AddedRep>;
}

interface AddedRep {
  organizationSalesRepId: string;
  identityProviderUserId: string;
  email: string;
}

export interface ConsoleTest {
  readonly kind: DatabaseKind;
  readonly browser: Browser;
  readonly service: Service;
  /** The configuration the service was started with. */
  readonly config: Config;
  readonly database: TestDatabase;
  readonly dataDir: string;
  readonly publicUrl: string;
  /** Script errors and console errors of every page since the test began (a refused request's log line aside). */
  readonly scriptErrors: string[];
  /** A new page in a browser context of its own, its script errors collected. */
  newPage(size?: Size): Promise<Page>;
  /** Collects the page's script errors (pages the test opens itself, such as a new tab). */
  watch(page: Page): void;
  /** axe-core finds nothing; with CONSOLE_SCREENSHOTS, the page is saved there under the name (PGlite run only). */
  expectAccessible(page: Page, name: string): Promise<void>;
  /** Nothing on the page scrolls sideways. */
  expectFits(page: Page, size: Size): Promise<void>;
  /**
   * Nothing on the page scrolls sideways, the table's region (by its name) neither, and every cell of that table and
   * all it holds lies within the viewport's width: each column's content is read without scrolling.
   */
  expectTableFits(page: Page, region: string, size: Size): Promise<void>;
  /** The dialog lies within the viewport and nothing in it is cut off or spills out. */
  expectWhole(page: Page, dialog: Locator, size: Size): Promise<void>;
  /** Types the email and password on the console's sign-in page and submits. */
  submitSignIn(page: Page, email: string, password?: string): Promise<void>;
  /**
   * A new organization of its own and its admin, invited, password set and signed in at both sizes: each test
   * starts from here, so that it runs alone.
   */
  signedInAdmin(options?: {
    organizationName?: string;
    domain?: string;
    admin?: string;
  }): Promise<AdminSession>;
  /**
   * The rep sets its password from the invitation mailed to it and signs in, in a browser of its own: the page
   * shows its customers.
   */
  repSignsIn(email: string, password: string): Promise<Page>;
  /** Waits for the identity effect to make the account of the rep with this email (a moment after it is added). */
  accountMade(email: string): Promise<void>;
  /** An Admin token of the local issuer for the organization. */
  adminToken(identityOrganizationId: string, userId?: string): Promise<string>;
}

/** Whether the box lies wholly inside the other (a pixel of rounding allowed). */
export function inside(
  inner: { x: number; y: number; width: number; height: number },
  outer: { x: number; y: number; width: number; height: number },
): boolean {
  return (
    inner.x >= outer.x - 1 &&
    inner.y >= outer.y - 1 &&
    inner.x + inner.width <= outer.x + outer.width + 1 &&
    inner.y + inner.height <= outer.y + outer.height + 1
  );
}

/**
 * The service listening on a free port over a fresh database of the kind, and headless Chromium, for the tests of
 * the describe it is called in (started before them, stopped after). After each test, none of its pages may have
 * thrown a script error or logged one.
 */
export function consoleTest(kind: DatabaseKind, options: ConsoleTestOptions = {}): ConsoleTest {
  const state = { scriptErrors: [] as string[] } as {
    -readonly [K in keyof ConsoleTest]: ConsoleTest[K];
  } & { started?: { close(): Promise<void> } };
  let sessions = 0;
  /** The contexts a test opened, closed after it. */
  const contexts: BrowserContext[] = [];

  const watch = (page: Page) => {
    page.on('pageerror', (error) => state.scriptErrors.push(`${page.url()}: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
        state.scriptErrors.push(`${page.url()}: ${message.text()}`);
      }
    });
  };
  const newPage = async (size: Size = 'desktop') => {
    const context = await state.browser.newContext({
      viewport: SIZES[size],
      ...(options.clipboard ? { permissions: ['clipboard-read', 'clipboard-write'] } : {}),
    });
    contexts.push(context);
    const page = await context.newPage();
    watch(page);
    return page;
  };
  const adminToken = (identityOrganizationId: string, userId = 'admin_setup') =>
    (state.service.localIssuer as NonNullable<Service['localIssuer']>).sign(
      { userId, organization: identityOrganizationId, roles: ['Admin'] },
      600,
    );
  const submitSignIn = async (page: Page, email: string, password?: string) => {
    await page.getByLabel('Email').fill(email);
    if (password !== undefined) await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };

  const signedInAdmin: ConsoleTest['signedInAdmin'] = async ({
    organizationName = 'Acme Supply',
    domain = 'acme.example',
    admin = 'ada',
  } = {}) => {
    sessions += 1;
    const identityOrganizationId = `org_${newId()}`;
    // A domain per session: a person (admin or rep) of two organizations is one account, which they would share.
    const ownDomain = sessions === 1 ? domain : domain.replace(/^([^.]+)/, `$1${sessions}`);
    const email = `${admin}@${ownDomain}`;
    await createOrganization(state.database.db, { name: organizationName, identityOrganizationId });
    const { link } = await (state.service.signin as Signin).inviteAdmin({ identityOrganizationId, email });
    const token = await adminToken(identityOrganizationId);
    const pages = {} as Record<Size, Page>;
    for (const size of SIZE_NAMES) pages[size] = await newPage(size);
    await pages.desktop.goto(link as string);
    await pages.desktop.getByLabel('Password').fill(ADMIN_PASSWORD);
    await pages.desktop.getByRole('button', { name: 'Set password' }).click();
    await pages.desktop.getByRole('heading', { name: 'Password set' }).waitFor();
    for (const page of Object.values(pages)) {
      await page.goto(`${state.publicUrl}/console/`);
      await submitSignIn(page, email, ADMIN_PASSWORD);
      await page.getByRole('heading', { name: 'Sales reps' }).waitFor();
    }
    const api: AdminSession['api'] = (method, url, payload) =>
      state.service.app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${token}` },
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
    const read = async <T>(method: Parameters<AdminSession['api']>[0], url: string, payload?: unknown) => {
      const response = await api(method, url, payload);
      expect(response.statusCode, response.body).toBeLessThan(300);
      return (response.body ? response.json() : undefined) as T;
    };
    return {
      identityOrganizationId,
      domain: ownDomain,
      email,
      token,
      pages,
      api,
      read,
      connectOidc: async ({ issuer, clientId, clientSecret }) => {
        await read('PUT', '/api/organizations/sso', {
          protocol: 'oidc',
          issuer,
          clientId,
          clientSecret,
          domains: [ownDomain],
        });
      },
      addRep: async (repNumber, firstName, lastName) => {
        const repEmail = `${firstName}.${lastName.replaceAll(' ', '')}@${ownDomain}`.toLowerCase();
        const rep = await read<Omit<AddedRep, 'email'>>('PUT', '/api/organizations/salesreps', {
          firstName,
          lastName,
          email: repEmail,
          repNumber,
        });
        return { ...rep, email: repEmail };
      },
    };
  };

  Object.assign(state, {
    kind,
    repSignsIn: async (email: string, password: string) => {
      const rep = await newPage();
      await rep.goto(await mailedLink(state.dataDir, email));
      await rep.getByLabel('Password').fill(password);
      await rep.getByRole('button', { name: 'Set password' }).click();
      await rep.getByRole('link', { name: 'open the console' }).click();
      await submitSignIn(rep, email, password);
      await rep.getByRole('heading', { name: 'My customers' }).waitFor();
      return rep;
    },
    accountMade: (email: string) =>
      eventually(async () => {
        const membership = await state.database.db
          .selectFrom('idp_membership')
          .innerJoin('idp_account', 'idp_account.id', 'idp_membership.account_id')
          .select('idp_membership.account_id')
          .where('idp_account.email', '=', email)
          .executeTakeFirst();
        if (!membership) throw new Error('no membership yet');
      }),
    watch,
    newPage,
    adminToken,
    submitSignIn,
    signedInAdmin,
    expectAccessible: async (page: Page, name: string) => {
      expect(await violations(page), name).toEqual([]);
      if (SCREENSHOTS && kind === 'pglite') {
        await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
      }
    },
    expectFits: async (page: Page, size: Size) => {
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(
        SIZES[size].width,
      );
    },
    expectTableFits: async (page: Page, region: string, size: Size) => {
      const box = page.getByRole('region', { name: region });
      expect(
        await box.evaluate((element) => element.scrollWidth - element.clientWidth),
        `${region}: how far it scrolls sideways`,
      ).toBeLessThanOrEqual(1);
      const outside = await box.evaluate(
        (element, width) =>
          [...element.querySelectorAll('td, td *')]
            .filter((cell) => {
              const rect = cell.getBoundingClientRect();
              return rect.width > 0 && (rect.left < -1 || rect.right > width + 1);
            })
            .map((cell) => cell.outerHTML.slice(0, 80)),
        SIZES[size].width,
      );
      expect(outside, `${region}: what lies outside the viewport`).toEqual([]);
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(
        SIZES[size].width,
      );
    },
    expectWhole: async (page: Page, dialog: Locator, size: Size) => {
      const box = await dialog.boundingBox();
      expect(box).not.toBeNull();
      expect(
        inside(box as NonNullable<typeof box>, { x: 0, y: 0, ...SIZES[size] }),
        'the dialog within the viewport',
      ).toBe(true);
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
    },
  });

  beforeAll(async () => {
    state.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'salesreps-console-'));
    const port = await freePort();
    state.publicUrl = `http://${options.host ?? '127.0.0.1'}:${port}`;
    state.started = await options.before?.(state.publicUrl);
    state.database = await openTestDatabase(kind);
    state.config = loadConfig({
      DATA_DIR: state.dataDir,
      HOST: '127.0.0.1',
      PORT: String(port),
      PASSWORD_SCRYPT_LOG2_N: '14',
      ...(options.host === 'localhost' ? { PUBLIC_URL: state.publicUrl } : {}),
      ...options.env,
    });
    state.service = await createService(state.config, { database: state.database, log: false });
    await state.service.app.listen({ host: '127.0.0.1', port });
    state.browser = await launchChromium();
  });
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
    const errors = state.scriptErrors.splice(0);
    expect(errors, 'no page threw a script error or logged one').toEqual([]);
  });
  afterAll(async () => {
    await state.browser?.close();
    await state.service?.close();
    await state.started?.close();
    await state.database?.close();
    if (state.dataDir) fs.rmSync(state.dataDir, { recursive: true, force: true });
  });
  return state;
}

/**
 * `consoleTest` with an OpenID provider of its own beside the service (playing the organization's IdP), which
 * `idp` gives once started. The service is at `localhost` and the IdP at `127.0.0.1`: both are OpenID providers
 * with cookies of the same names, which a browser would share between two ports of one host.
 */
export function consoleTestWithIdp(kind: DatabaseKind): { c: ConsoleTest; idp(): TestIdp } {
  let idp: TestIdp | undefined;
  const c = consoleTest(kind, {
    host: 'localhost',
    clipboard: true,
    // The test IdPs are on this machine, over http.
    env: { EFFECTS_POLL_MS: '20', SSO_ALLOW_PRIVATE_NETWORKS: 'true' },
    before: async (publicUrl) => {
      idp = await startTestIdp({ redirectUri: `${publicUrl}/signin/sso/callback` });
      return idp;
    },
  });
  return { c, idp: () => idp as TestIdp };
}

/** The console's "Single sign-on" page, through its navigation. */
export async function openSingleSignOn(page: Page): Promise<void> {
  await page
    .getByRole('navigation', { name: 'Console' })
    .getByRole('link', { name: 'Single sign-on' })
    .click();
  await page.getByRole('heading', { name: 'Single sign-on', level: 1 }).waitFor();
}

/** Opens the rep's "Actions" menu and picks the action (its dialog, if any, is left open). */
export async function repAction(page: Page, name: string, action: string): Promise<void> {
  await page.getByRole('button', { name: `Actions for ${name}` }).click();
  await page
    .getByRole('list', { name: `Actions for ${name}` })
    .getByRole('button', { name: action })
    .click();
}

/** Deactivates the rep through its "Actions" menu and the confirmation. */
export async function deactivateThroughMenu(page: Page, name: string): Promise<void> {
  await repAction(page, name, 'Deactivate');
  await page
    .getByRole('dialog', { name: `Deactivate ${name}?` })
    .getByRole('button', { name: `Deactivate ${name}` })
    .click();
}

/** Chooses a CSV file of these contents in the import dialog's "CSV file" field. */
export async function chooseCsv(dialog: Locator, name: string, csv: string): Promise<void> {
  await dialog.getByLabel('CSV file').setInputFiles({ name, mimeType: 'text/csv', buffer: Buffer.from(csv) });
}
