import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import * as oauth from 'oauth4webapi';
import type { LocalIssuer } from '../../src/auth/local-issuer.js';
import type { Config } from '../../src/config.js';
import type { Db } from '../../src/db/database.js';
import type { Organization } from '../../src/db/schema.js';
import type { Service } from '../../src/main.js';
import { addClient } from '../../src/signin/service.js';
import { eventually } from '../effects/support/wait.js';
import type { DatabaseKind, TestDatabase } from '../support/databases.js';
import { startTestService, type TestService } from '../support/service.js';

export const PUBLIC_URL = 'http://salesreps.test';
export const CLIENT_ID = 'journey-app';
export const REDIRECT_URI = 'http://localhost:5173/callback';
/** Passwords of the tests: long enough (15+), not common. */
export const GOOD_PASSWORD = 'violet harbour tractor 42';

export interface SigninService {
  app: FastifyInstance;
  db: Db;
  service: Service;
  database: TestDatabase;
  issuer: LocalIssuer;
  config: Config;
  dataDir: string;
  /** The service's log lines (JSON), to check what sign-in logged. */
  logLines: string[];
  createOrganization(name?: string): Promise<Organization>;
  adminToken(organization: Organization): Promise<string>;
  /** `app.inject` with a bearer token and a JSON body. */
  call: TestService['call'];
  /** The mails written so far (MAIL=file), as text. */
  mails(): string[];
  /** Waits for a mail to `to` whose text matches, and answers the first link to this service in it. */
  linkMailedTo(to: string, contains?: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * The service as `createService` builds it, with the embedded sign-in at PUBLIC_URL, its effect worker running and
 * writing mail files, and a registered relying party (CLIENT_ID, REDIRECT_URI).
 */
export async function startSigninService(
  kind: DatabaseKind,
  env: Record<string, string> = {},
): Promise<SigninService> {
  const logLines: string[] = [];
  const started = await startTestService(
    kind,
    {
      PUBLIC_URL,
      PASSWORD_SCRYPT_LOG2_N: '14',
      EFFECTS_POLL_MS: '20',
      RATE_LIMIT_MAX: '100000',
      ...env,
    },
    { runEffects: true, log: { write: (line) => logLines.push(line) } },
  );
  const { service, database, issuer, config, dataDir } = started;
  await addClient(database.db, { id: CLIENT_ID, redirectUris: [REDIRECT_URI] });
  const mailDir = path.join(dataDir, 'mail');
  const mails = () =>
    fs.existsSync(mailDir)
      ? fs
          .readdirSync(mailDir)
          .filter((name) => name.endsWith('.eml'))
          .sort((a, b) => Number(a.replace(/\D/g, '')) - Number(b.replace(/\D/g, '')))
          .map((name) => fs.readFileSync(path.join(mailDir, name), 'utf8'))
      : [];
  return {
    app: service.app,
    call: started.call,
    db: database.db,
    service,
    database,
    issuer,
    config,
    dataDir,
    logLines,
    createOrganization: started.createOrganization,
    adminToken: (organization) =>
      issuer.sign(
        { userId: 'admin-1', organization: organization.identity_organization_id, roles: ['Admin'] },
        600,
      ),
    mails,
    linkMailedTo: (to, contains) =>
      eventually(() => {
        const mail = mails()
          .reverse()
          .find((text) => text.includes(`To: ${to}`) && (!contains || text.includes(contains)));
        const link = mail ? unfold(mail).match(/http:\/\/salesreps\.test\/[^\s"<>]+/)?.[0] : undefined;
        if (!link) throw new Error(`no mail to ${to} yet`);
        return link;
      }),
    close: started.close,
  };
}

/** A mail's text part with quoted-printable soft line breaks and escapes undone. */
function unfold(mail: string): string {
  return mail
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_match, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/**
 * A browser over `app.inject`: a cookie jar (names only; every cookie is sent back) and redirects followed until
 * one leaves the service.
 */
export class Browser {
  readonly cookies = new Map<string, string>();
  constructor(private readonly app: FastifyInstance) {}

  private keep(response: LightMyRequestResponse): void {
    const header = response.headers['set-cookie'];
    for (const line of header === undefined ? [] : Array.isArray(header) ? header : [header]) {
      const [pair] = line.split(';');
      const [name, ...value] = (pair ?? '').split('=');
      if (!name) continue;
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line)) this.cookies.delete(name.trim());
      else this.cookies.set(name.trim(), value.join('='));
    }
  }

  /** A request from the browser; `remoteAddress` sends it from another client address (as a botnet would). */
  async request(method: 'GET' | 'POST', url: string, form?: Record<string, string>, remoteAddress?: string) {
    const target = url.startsWith(PUBLIC_URL) ? url.slice(PUBLIC_URL.length) : url;
    const response = await this.app.inject({
      method,
      url: target,
      ...(remoteAddress ? { remoteAddress } : {}),
      headers: {
        host: 'salesreps.test',
        cookie: [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; '),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(form ? { payload: new URLSearchParams(form).toString() } : {}),
    });
    this.keep(response);
    return response;
  }

  /** Requests, then follows redirects within the service; answers the last response and where it pointed. */
  async follow(method: 'GET' | 'POST', url: string, form?: Record<string, string>) {
    let response = await this.request(method, url, form);
    for (let hop = 0; hop < 10; hop++) {
      const location = response.headers.location;
      if (response.statusCode < 300 || response.statusCode >= 400 || typeof location !== 'string') break;
      const absolute = new URL(location, PUBLIC_URL).toString();
      if (!absolute.startsWith(PUBLIC_URL)) return { response, leftTo: absolute };
      response = await this.request('GET', absolute);
    }
    return { response, leftTo: undefined };
  }
}

/** The value of a hidden field of a page. */
export function hiddenField(html: string, name: string): string {
  const value = html.match(new RegExp(`name="${name}" value="([^"]*)"`))?.[1];
  if (value === undefined) throw new Error(`no field ${name} in the page`);
  return value;
}

export function formAction(html: string): string {
  const action = html.match(/<form method="post" action="([^"]+)"/)?.[1];
  if (!action) throw new Error('no form in the page');
  return action.replaceAll('&amp;', '&');
}

/** A relying party library's HTTP requests (oauth4webapi's, openid-client's), sent to the app in-process. */
export function injectFetch(app: FastifyInstance) {
  return async (url: string, options: oauth.CustomFetchOptions<string, unknown>): Promise<Response> => {
    const target = new URL(url);
    const response = await app.inject({
      method: options.method as 'GET' | 'POST',
      url: `${target.pathname}${target.search}`,
      headers: {
        ...Object.fromEntries(new Headers(options.headers as ConstructorParameters<typeof Headers>[0])),
        host: target.host,
      },
      ...(options.body === undefined ? {} : { payload: String(options.body) }),
    });
    return new Response(response.statusCode === 204 ? null : response.rawPayload, {
      status: response.statusCode,
      headers: Object.entries(response.headers).flatMap(([name, value]) =>
        value === undefined
          ? []
          : (Array.isArray(value) ? value : [String(value)]).map((v) => [name, v] as [string, string]),
      ),
    });
  };
}

/** The relying party: discovery, then the authorization code flow with PKCE, through oauth4webapi. */
export async function relyingParty(app: FastifyInstance) {
  const fetchOptions = { [oauth.customFetch]: injectFetch(app), [oauth.allowInsecureRequests]: true };
  const issuer = new URL(PUBLIC_URL);
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, fetchOptions));
  const client: oauth.Client = { client_id: CLIENT_ID };
  return {
    as,
    client,
    fetchOptions,
    async start(extra: Record<string, string> = {}) {
      const verifier = oauth.generateRandomCodeVerifier();
      const state = oauth.generateRandomState();
      const nonce = oauth.generateRandomNonce();
      const url = new URL(as.authorization_endpoint as string);
      url.search = new URLSearchParams({
        client_id: CLIENT_ID,
        redirect_uri: REDIRECT_URI,
        response_type: 'code',
        scope: 'openid email',
        code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
        ...extra,
      }).toString();
      return { url: url.toString(), verifier, state, nonce };
    },
    async exchange(callback: string, flow: { verifier: string; state: string; nonce: string }) {
      const params = oauth.validateAuthResponse(as, client, new URL(callback), flow.state);
      const response = await oauth.authorizationCodeGrantRequest(
        as,
        client,
        oauth.None(),
        params,
        REDIRECT_URI,
        flow.verifier,
        fetchOptions,
      );
      return oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: flow.nonce });
    },
    async refresh(refreshToken: string) {
      const response = await oauth.refreshTokenGrantRequest(
        as,
        client,
        oauth.None(),
        refreshToken,
        fetchOptions,
      );
      return oauth.processRefreshTokenResponse(as, client, response);
    },
  };
}

/** Signs in through the pages: the authorization URL → the sign-in form → (the chooser) → back to the client. */
export async function signInThroughPages(
  browser: Browser,
  authorizationUrl: string,
  credentials: { email: string; password: string },
  chooseOrganization?: string,
) {
  const start = await browser.follow('GET', authorizationUrl);
  const signInHtml = start.response.body;
  const afterLogin = await browser.follow('POST', formAction(signInHtml), {
    csrf: hiddenField(signInHtml, 'csrf'),
    email: credentials.email,
    password: credentials.password,
  });
  if (afterLogin.leftTo || chooseOrganization === undefined) return afterLogin;
  const chooser = afterLogin.response.body;
  return browser.follow('POST', formAction(chooser), {
    csrf: hiddenField(chooser, 'csrf'),
    org_code: chooseOrganization,
  });
}

/** Sets a password through an invitation or reset link's page. */
export async function setPasswordThroughLink(browser: Browser, link: string, password: string) {
  const pageResponse = await browser.request('GET', link);
  if (pageResponse.statusCode !== 200) return pageResponse;
  return browser.request('POST', formAction(pageResponse.body), {
    csrf: hiddenField(pageResponse.body, 'csrf'),
    password,
  });
}
