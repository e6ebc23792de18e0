import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { hashPassword, verifyPassword } from '../../src/signin/passwords.js';
import { databaseKinds } from '../support/databases.js';
import { addRep, REPS_URL } from '../support/fixtures.js';
import {
  Browser,
  formAction,
  GOOD_PASSWORD,
  hiddenField,
  PUBLIC_URL,
  REDIRECT_URI,
  relyingParty,
  type SigninService,
  setPasswordThroughLink,
  signInThroughPages,
  startSigninService,
} from './support.js';

const INVITATION_URL = `${REPS_URL}/invitation`;

describe.each(databaseKinds)('sign-in security on %s', (kind) => {
  let service: SigninService;
  let organization: Organization;
  let admin: string;
  let rp: Awaited<ReturnType<typeof relyingParty>>;
  let counter = 0;

  /** A rep who has followed the invitation and set GOOD_PASSWORD. */
  const repWithPassword = async () => {
    const email = `secure${++counter}@example.com`;
    const rep = await addRep(service, admin, { email });
    await setPasswordThroughLink(new Browser(service.app), await service.linkMailedTo(email), GOOD_PASSWORD);
    return { email, rep };
  };
  const attempt = async (email: string, password: string) =>
    signInThroughPages(new Browser(service.app), (await rp.start()).url, { email, password });

  beforeAll(async () => {
    service = await startSigninService(kind);
    organization = await service.createOrganization('Secure Supply');
    admin = await service.adminToken(organization);
    rp = await relyingParty(service.app);
  });
  afterAll(async () => {
    await service?.close();
  });

  it('stores passwords as scrypt hashes with their parameters, never the password', async () => {
    const { rep } = await repWithPassword();
    const row = await service.db
      .selectFrom('signin_credential')
      .select('password_hash')
      .where('account_id', '=', rep.identityProviderUserId)
      .executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^scrypt\$14\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(row.password_hash).not.toContain(GOOD_PASSWORD);
    expect(await verifyPassword(GOOD_PASSWORD, row.password_hash)).toBe(true);
    expect(await verifyPassword(`${GOOD_PASSWORD}x`, row.password_hash)).toBe(false);
    // The default cost is OWASP's N = 2^17.
    expect(service.config.signin.scryptLog2N).toBe(14);
    expect((await hashPassword('x', 17)).startsWith('scrypt$17$8$1$')).toBe(true);
  });

  it('refuses a password shorter than 15 characters or among the most common ones, and the link stays usable', async () => {
    const email = `rules${++counter}@example.com`;
    await addRep(service, admin, { email });
    const link = await service.linkMailedTo(email);
    const browser = new Browser(service.app);
    const short = await setPasswordThroughLink(browser, link, 'short pass 12');
    expect(short.statusCode).toBe(400);
    expect(short.body).toContain('at least 15 characters');
    const common = await setPasswordThroughLink(browser, link, 'passwordpassword');
    expect(common.statusCode).toBe(400);
    expect(common.body).toContain('most commonly used');
    expect((await setPasswordThroughLink(browser, link, GOOD_PASSWORD)).statusCode).toBe(200);
  });

  it('refuses a common password with a trailing run of digits or symbols, and counts the characters typed, not their NFKC form', async () => {
    const email = `typed${++counter}@example.com`;
    await addRep(service, admin, { email });
    const link = await service.linkMailedTo(email);
    const browser = new Browser(service.app);
    for (const common of ['password1234567', 'Dragon!!2024!!!!!', 'sunshine 1234567']) {
      const refused = await setPasswordThroughLink(browser, link, common);
      expect(refused.statusCode, common).toBe(400);
      expect(refused.body).toContain('most commonly used');
    }
    // Eight characters typed, sixteen after NFKC (each unit sign is two letters).
    const units = await setPasswordThroughLink(browser, link, '㎞㎏㎜㎝㎞㎏㎜㎝');
    expect(units.statusCode).toBe(400);
    expect(units.body).toContain('at least 15 characters');
    expect((await setPasswordThroughLink(browser, link, GOOD_PASSWORD)).statusCode).toBe(200);
  });

  it('slows an email after 5 failures, known or unknown, even for the right password, with the same answer', async () => {
    const { email } = await repWithPassword();
    for (let i = 0; i < 6; i++)
      expect((await attempt(email, 'wrong password number x')).response.statusCode).toBe(401);
    const blocked = await attempt(email, GOOD_PASSWORD);
    expect(blocked.response.statusCode).toBe(429);
    expect(blocked.leftTo).toBeUndefined();
    expect(Number(blocked.response.headers['retry-after'])).toBeGreaterThan(0);
    const unknown = 'nobody.at.all@example.com';
    for (let i = 0; i < 6; i++) await attempt(unknown, 'wrong password number x');
    const unknownBlocked = await attempt(unknown, GOOD_PASSWORD);
    expect(unknownBlocked.response.statusCode).toBe(429);
    const message = (html: string) =>
      html.match(/role="alert">([^<]*)</)?.[1]?.replace(/\d+ seconds/, 'N seconds');
    expect(message(unknownBlocked.response.body)).toBe(message(blocked.response.body));
  });

  it('slows a client address after 20 failures across any emails', async () => {
    await service.db.deleteFrom('signin_throttle').execute();
    for (let i = 0; i < 21; i++) await attempt(`spray${i}@example.com`, 'wrong password number x');
    const { email } = await repWithPassword();
    expect((await attempt(email, GOOD_PASSWORD)).response.statusCode).toBe(429);
    await service.db.deleteFrom('signin_throttle').execute();
  });

  it('counts an IPv6 client by its /64, as the API limiter does', async () => {
    await service.db.deleteFrom('signin_throttle').execute();
    const { email } = await repWithPassword();
    const fromAddress = async (address: string, who: string, password: string) => {
      const browser = new Browser(service.app);
      const page = (await browser.follow('GET', (await rp.start()).url)).response.body;
      return browser.request(
        'POST',
        formAction(page),
        { csrf: hiddenField(page, 'csrf'), email: who, password },
        address,
      );
    };
    // Each failure from another address of the same /64, as a client that changes its address at will.
    for (let i = 0; i < 21; i++) {
      const response = await fromAddress(
        `2001:db8:5:6::${(i + 1).toString(16)}`,
        `v6spray${i}@example.com`,
        'wrong password number x',
      );
      expect(response.statusCode).toBe(401);
    }
    expect((await fromAddress('2001:db8:5:6:ffff::1', email, GOOD_PASSWORD)).statusCode).toBe(429);
    // Another /64 is another client.
    expect((await fromAddress('2001:db8:5:7::1', email, GOOD_PASSWORD)).statusCode).toBe(303);
    await service.db.deleteFrom('signin_throttle').execute();
  });

  it('takes as long for an unknown email as for a wrong password (no enumeration by timing)', async () => {
    const { email } = await repWithPassword();
    const time = async (address: string) => {
      const started = performance.now();
      await attempt(address, 'wrong password number x');
      return performance.now() - started;
    };
    const median = (values: number[]) =>
      values.sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 4; i++) {
      await service.db.deleteFrom('signin_throttle').execute();
      known.push(await time(email));
      unknown.push(await time(`unknown${i}@example.com`));
    }
    await service.db.deleteFrom('signin_throttle').execute();
    expect(median(unknown)).toBeGreaterThan(median(known) * 0.6);
    expect(median(unknown)).toBeLessThan(median(known) * 1.6);
  });

  it('resets a password by a mailed single-use link; the old password stops working', async () => {
    const { email } = await repWithPassword();
    const browser = new Browser(service.app);
    const form = await browser.request('GET', '/signin/reset');
    const csrf = form.body.match(/name="csrf" value="([^"]+)"/)?.[1] as string;
    const asked = await browser.request('POST', '/signin/reset', { csrf, email });
    expect(asked.body).toContain('If this address belongs to an account');
    const unknownAsked = await browser.request('POST', '/signin/reset', { csrf, email: 'who@example.com' });
    expect(unknownAsked.body).toBe(asked.body);
    const link = await service.linkMailedTo(email, 'Reset your Sales Reps password');
    const newPassword = 'a completely new passphrase 7';
    expect((await setPasswordThroughLink(browser, link, newPassword)).statusCode).toBe(200);
    expect((await attempt(email, GOOD_PASSWORD)).response.statusCode).toBe(401);
    expect((await attempt(email, newPassword)).leftTo?.startsWith(REDIRECT_URI)).toBe(true);
    expect((await browser.request('GET', link)).statusCode).toBe(410);
  });

  it('an expired invitation link says so and offers a new one; it expires INVITATION_TTL_HOURS after it was mailed', async () => {
    const email = `expiring${++counter}@example.com`;
    await addRep(service, admin, { email });
    const link = await service.linkMailedTo(email);
    const stored = await service.db
      .selectFrom('signin_link')
      .selectAll()
      .orderBy('created_at', 'desc')
      .executeTakeFirstOrThrow();
    const hours = (stored.expires_at.getTime() - stored.created_at.getTime()) / 3_600_000;
    expect(hours).toBeCloseTo(168, 1);
    await service.db
      .updateTable('signin_link')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', stored.id)
      .execute();
    const page = await new Browser(service.app).request('GET', link);
    expect(page.statusCode).toBe(410);
    expect(page.body).toContain('expired');
    expect(page.body).toContain('Send me a new link');
    // The page's form mails a new invitation link to a person who has no password yet.
    const browser = new Browser(service.app);
    const form = await browser.request('GET', link);
    const csrf = form.body.match(/name="csrf" value="([^"]+)"/)?.[1] as string;
    expect((await browser.request('POST', '/signin/reset', { csrf, email })).statusCode).toBe(200);
    const fresh = await service.linkMailedTo(email, 'Your new Sales Reps invitation link');
    expect(fresh).not.toBe(link);
    expect((await setPasswordThroughLink(browser, fresh, GOOD_PASSWORD)).statusCode).toBe(200);
  });

  it('POST invitation mails a new link and voids the old one; 409 once a password is set; 404 for another tenant', async () => {
    const email = `resend${++counter}@example.com`;
    const rep = await addRep(service, admin, { email });
    const first = await service.linkMailedTo(email);
    const resent = await service.call('POST', INVITATION_URL, admin, {
      organizationSalesRepId: rep.organizationSalesRepId,
    });
    expect(resent.statusCode, resent.body).toBe(202);
    expect(resent.json()).toEqual({
      organizationSalesRepId: rep.organizationSalesRepId,
      email,
      expiresInHours: 168,
    });
    expect((await new Browser(service.app).request('GET', first)).statusCode).toBe(410);
    const second = await service.linkMailedTo(email).then(async (link) => {
      for (let i = 0; i < 100 && link === first; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        link = await service.linkMailedTo(email);
      }
      return link;
    });
    expect(second).not.toBe(first);
    expect((await setPasswordThroughLink(new Browser(service.app), second, GOOD_PASSWORD)).statusCode).toBe(
      200,
    );
    const again = await service.call('POST', INVITATION_URL, admin, {
      organizationSalesRepId: rep.organizationSalesRepId,
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().type).toBe('urn:salesreps:problem:password-already-set');
    const other = await service.createOrganization('Other Tenant');
    const otherAdmin = await service.adminToken(other);
    const foreign = await service.call('POST', INVITATION_URL, otherAdmin, {
      organizationSalesRepId: rep.organizationSalesRepId,
    });
    expect(foreign.statusCode).toBe(404);
    expect((await service.call('POST', INVITATION_URL, admin, {})).statusCode).toBe(400);
  });

  it('refuses every form posted without the CSRF token of its browser', async () => {
    const email = `csrf${++counter}@example.com`;
    await addRep(service, admin, { email });
    const link = await service.linkMailedTo(email);
    const victim = new Browser(service.app);
    const page = await victim.request('GET', link);
    const csrf = page.body.match(/name="csrf" value="([^"]+)"/)?.[1] as string;
    const attacker = new Browser(service.app);
    await attacker.request('GET', '/signin/reset');
    // Another browser's token, and no token at all.
    expect((await attacker.request('POST', link, { csrf, password: GOOD_PASSWORD })).statusCode).toBe(403);
    expect((await victim.request('POST', link, { password: GOOD_PASSWORD })).statusCode).toBe(403);
    expect((await attacker.request('POST', '/signin/reset', { csrf, email })).statusCode).toBe(403);
    const flow = await rp.start();
    const start = await victim.follow('GET', flow.url);
    const action = start.response.body.match(/action="([^"]+)"/)?.[1] as string;
    expect((await victim.request('POST', action, { email, password: GOOD_PASSWORD })).statusCode).toBe(403);
  });

  it("refuses a form's CSRF token at another interaction or another form, even in the same browser", async () => {
    const browser = new Browser(service.app);
    const first = (await browser.follow('GET', (await rp.start()).url)).response.body;
    const second = (await browser.follow('GET', (await rp.start()).url)).response.body;
    expect(formAction(first)).not.toBe(formAction(second));
    const crossed = await browser.request('POST', formAction(second), {
      csrf: hiddenField(first, 'csrf'),
      email: 'crossed@example.com',
      password: 'wrong password number x',
    });
    expect(crossed.statusCode).toBe(403);
    const reset = await browser.request('POST', '/signin/reset', {
      csrf: hiddenField(first, 'csrf'),
      email: 'crossed@example.com',
    });
    expect(reset.statusCode).toBe(403);
    // Its own token is taken.
    const own = await browser.request('POST', formAction(second), {
      csrf: hiddenField(second, 'csrf'),
      email: 'crossed@example.com',
      password: 'wrong password number x',
    });
    expect(own.statusCode).toBe(401);
  });

  it('sets its cookies HttpOnly and SameSite, not Secure over http', async () => {
    const browser = new Browser(service.app);
    const flow = await rp.start();
    const response = await browser.request('GET', flow.url);
    const page = await browser.request('GET', '/signin/reset');
    const cookies = [response.headers['set-cookie'], page.headers['set-cookie']]
      .flat()
      .filter(Boolean) as string[];
    expect(cookies.length).toBeGreaterThan(1);
    for (const cookie of cookies) {
      expect(cookie.toLowerCase()).toContain('httponly');
      expect(cookie.toLowerCase()).toMatch(/samesite=(lax|strict)/);
      expect(cookie.toLowerCase()).not.toContain('secure');
    }
  });

  it('pins every URL of the discovery document to PUBLIC_URL whatever Host the client sends, and lets it be cached', async () => {
    for (const headers of [
      { host: 'evil.example' },
      { host: 'salesreps.test', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http' },
    ]) {
      const response = await service.app.inject({
        method: 'GET',
        url: '/.well-known/openid-configuration',
        headers,
      });
      expect(response.statusCode).toBe(200);
      const urls = Object.values(response.json() as Record<string, unknown>).filter(
        (value): value is string => typeof value === 'string' && /^https?:/.test(value),
      );
      expect(urls.length).toBeGreaterThan(5);
      for (const url of urls) expect(url.startsWith(`${PUBLIC_URL}/`) || url === PUBLIC_URL, url).toBe(true);
      expect(response.headers['cache-control']).toMatch(/max-age=\d+/);
    }
  });

  it('matches redirect URIs exactly, and requires PKCE', async () => {
    for (const redirect of [
      `${REDIRECT_URI}/`,
      `${REDIRECT_URI}?x=1`,
      'http://localhost:5173/CALLBACK',
      'https://evil.example/callback',
    ]) {
      const flow = await rp.start({ redirect_uri: redirect });
      const response = await new Browser(service.app).request('GET', flow.url);
      expect(response.statusCode, redirect).toBe(400);
      expect(response.headers.location).toBeUndefined();
    }
    const url = new URL((await rp.start()).url);
    url.searchParams.delete('code_challenge');
    url.searchParams.delete('code_challenge_method');
    const withoutPkce = await new Browser(service.app).request('GET', url.toString());
    expect(withoutPkce.statusCode).toBe(303);
    expect(String(withoutPkce.headers.location)).toContain('error=invalid_request');
  });

  it('answers CORS requests of the token endpoint only from the client redirect origins', async () => {
    const preflight = (origin: string) =>
      service.app.inject({
        method: 'OPTIONS',
        url: '/oidc/token',
        headers: { host: 'salesreps.test', origin, 'access-control-request-method': 'POST' },
      });
    const own = await preflight('http://localhost:5173');
    expect(own.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    const token = await service.app.inject({
      method: 'POST',
      url: '/oidc/token',
      headers: {
        host: 'salesreps.test',
        origin: 'https://evil.example',
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: 'grant_type=refresh_token&refresh_token=x&client_id=journey-app',
    });
    expect(token.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('refuses a code with the wrong PKCE verifier, and a code used twice', async () => {
    const { email } = await repWithPassword();
    const flow = await rp.start();
    const done = await signInThroughPages(new Browser(service.app), flow.url, {
      email,
      password: GOOD_PASSWORD,
    });
    await expect(
      rp.exchange(done.leftTo as string, { ...flow, verifier: `${flow.verifier}x` }),
    ).rejects.toThrow();
    const again = await rp.start();
    const second = await signInThroughPages(new Browser(service.app), again.url, {
      email,
      password: GOOD_PASSWORD,
    });
    await rp.exchange(second.leftTo as string, again);
    await expect(rp.exchange(second.leftTo as string, again)).rejects.toThrow();
  });

  it('keeps sessions in the database; sign-out ends the session', async () => {
    const { email } = await repWithPassword();
    const browser = new Browser(service.app);
    const flow = await rp.start();
    const done = await signInThroughPages(browser, flow.url, { email, password: GOOD_PASSWORD });
    const tokens = await rp.exchange(done.leftTo as string, flow);
    const sessions = await service.db
      .selectFrom('oidc_payload')
      .select('id')
      .where('model', '=', 'Session')
      .execute();
    expect(sessions.length).toBeGreaterThan(0);
    // Signed in: a second authorization needs no password.
    const silent = await browser.follow('GET', (await rp.start()).url);
    expect(silent.leftTo?.startsWith(`${REDIRECT_URI}?code=`)).toBe(true);

    const logout = await browser.follow(
      'GET',
      `${PUBLIC_URL}/oidc/session/end?${new URLSearchParams({ id_token_hint: tokens.id_token as string, client_id: 'journey-app' })}`,
    );
    const xsrf = logout.response.body.match(/name="xsrf" value="([^"]+)"/)?.[1] as string;
    const confirmed = await browser.follow('POST', `${PUBLIC_URL}/oidc/session/end/confirm`, {
      xsrf,
      logout: 'yes',
    });
    expect(confirmed.response.body).toContain('signed out');
    // The refresh token was bound to the session: it ends with it.
    await expect(rp.refresh(tokens.refresh_token as string)).rejects.toThrow();
    const after = await browser.follow('GET', (await rp.start()).url);
    expect(after.leftTo).toBeUndefined();
    expect(after.response.body).toContain('<label for="password">Password</label>');
  });

  it('offers no offline_access: a refresh token asked for with it and prompt=consent still ends with sign-out', async () => {
    expect(rp.as.scopes_supported).not.toContain('offline_access');
    const { email } = await repWithPassword();
    const browser = new Browser(service.app);
    const flow = await rp.start({ scope: 'openid email offline_access', prompt: 'consent' });
    const done = await signInThroughPages(browser, flow.url, { email, password: GOOD_PASSWORD });
    const tokens = await rp.exchange(done.leftTo as string, flow);
    expect(tokens.scope?.split(' ') ?? []).not.toContain('offline_access');
    const logout = await browser.follow(
      'GET',
      `${PUBLIC_URL}/oidc/session/end?${new URLSearchParams({ id_token_hint: tokens.id_token as string, client_id: 'journey-app' })}`,
    );
    const xsrf = logout.response.body.match(/name="xsrf" value="([^"]+)"/)?.[1] as string;
    await browser.follow('POST', `${PUBLIC_URL}/oidc/session/end/confirm`, { xsrf, logout: 'yes' });
    await expect(rp.refresh(tokens.refresh_token as string)).rejects.toThrow();
  });

  it('logs sign-ins, failures and passwords set, never a password', () => {
    const events = service.logLines.map((line) => JSON.parse(line).event).filter(Boolean);
    for (const event of [
      'signin.succeeded',
      'signin.failed',
      'signin.password-set',
      'signin.password-reset',
      'signin.throttled',
    ]) {
      expect(events).toContain(event);
    }
    expect(service.logLines.join('\n')).not.toContain(GOOD_PASSWORD);
  });
});

describe('sign-in cookies behind https', () => {
  it('are Secure when PUBLIC_URL is https', async () => {
    const service = await startSigninService('pglite', {
      PUBLIC_URL: 'https://salesreps.test',
      TRUST_PROXY: '1',
    });
    try {
      const response = await service.app.inject({
        method: 'GET',
        url: '/signin/reset',
        headers: { host: 'salesreps.test', 'x-forwarded-proto': 'https' },
      });
      const cookie = String(response.headers['set-cookie']);
      expect(cookie).toContain('__Host-salesreps_csrf=');
      expect(cookie).toContain('Secure');
      expect(cookie).toContain('HttpOnly');
    } finally {
      await service.close();
    }
  });
});
