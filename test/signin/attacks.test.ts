// The sign-in tried as an attacker would: parallel guessing, secrets in the log, sessions surviving a reset.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { eventually } from '../effects/support/wait.js';
import { databaseKinds } from '../support/databases.js';
import { addRep, REPS_URL } from '../support/fixtures.js';
import {
  Browser,
  formAction,
  GOOD_PASSWORD,
  hiddenField,
  REDIRECT_URI,
  relyingParty,
  type SigninService,
  setPasswordThroughLink,
  signInThroughPages,
  startSigninService,
} from './support.js';

const WRONG_PASSWORD = 'wrong password number x';

describe.each(databaseKinds)('sign-in attacks on %s', (kind) => {
  let service: SigninService;
  let organization: Organization;
  let admin: string;
  let rp: Awaited<ReturnType<typeof relyingParty>>;
  let counter = 0;

  /** A rep who has followed the invitation and set GOOD_PASSWORD; answers the link it used. */
  const repWithPassword = async () => {
    await service.db.deleteFrom('signin_throttle').execute();
    const email = `attacked${++counter}@example.com`;
    const rep = await addRep(service, admin, { email });
    const link = await service.linkMailedTo(email);
    await setPasswordThroughLink(new Browser(service.app), link, GOOD_PASSWORD);
    return { email, rep, link };
  };
  /** The sign-in form of a new interaction, in a browser of its own. */
  const signInForm = async (extra: Record<string, string> = {}) => {
    const browser = new Browser(service.app);
    const flow = await rp.start(extra);
    const page = (await browser.follow('GET', flow.url)).response.body;
    return { browser, flow, action: formAction(page), csrf: hiddenField(page, 'csrf') };
  };
  const signedIn = async (email: string, extra: Record<string, string> = {}) => {
    const browser = new Browser(service.app);
    const flow = await rp.start(extra);
    const done = await signInThroughPages(browser, flow.url, { email, password: GOOD_PASSWORD });
    expect(done.leftTo?.startsWith(`${REDIRECT_URI}?code=`)).toBe(true);
    return { browser, tokens: await rp.exchange(done.leftTo as string, flow) };
  };
  const count = (statuses: number[], status: number) => statuses.filter((s) => s === status).length;

  beforeAll(async () => {
    service = await startSigninService(kind);
    organization = await service.createOrganization('Attacked Supply');
    admin = await service.adminToken(organization);
    rp = await relyingParty(service.app);
  });
  afterAll(async () => {
    await service?.close();
  });

  /**
   * How many attempts one by one get their password checked within `seconds`, past `free` failures: the first
   * blocked attempt waits 1 s, each later one twice as long as the one before, so k more need 2^k - 1 s.
   */
  const checkedOneByOne = (free: number, seconds: number) => free + 1 + Math.floor(Math.log2(seconds + 1));

  it('throttles a burst of guesses at one account exactly as the same guesses sent one by one', async () => {
    const { email } = await repWithPassword();
    const form = await signInForm();
    const started = performance.now();
    // From as many addresses: no address is slowed, nor has more than one attempt in flight.
    const guesses = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        form.browser.request(
          'POST',
          form.action,
          { csrf: form.csrf, email, password: WRONG_PASSWORD },
          `198.51.100.${i + 1}`,
        ),
      ),
    );
    const seconds = (performance.now() - started) / 1000;
    const statuses = guesses.map((response) => response.statusCode);
    // One by one: 5 free failures, the sixth attempt is still checked, each later one waits. Those beyond the
    // queue of password checks are turned away (503) before they are counted.
    expect(count(statuses, 401)).toBeGreaterThanOrEqual(6);
    expect(count(statuses, 401)).toBeLessThanOrEqual(checkedOneByOne(5, seconds));
    expect(count(statuses, 429) + count(statuses, 401) + count(statuses, 503)).toBe(30);
  });

  it('throttles a burst of guesses across many accounts from one address at its 20 free failures', async () => {
    await service.db.deleteFrom('signin_throttle').execute();
    const form = await signInForm();
    const started = performance.now();
    const guesses = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        form.browser.request('POST', form.action, {
          csrf: form.csrf,
          email: `spray${i}@example.com`,
          password: WRONG_PASSWORD,
        }),
      ),
    );
    const seconds = (performance.now() - started) / 1000;
    const statuses = guesses.map((response) => response.statusCode);
    // Fewer may be checked: an address has only a couple of attempts in flight at once.
    expect(count(statuses, 401)).toBeGreaterThan(0);
    expect(count(statuses, 401)).toBeLessThanOrEqual(checkedOneByOne(20, seconds));
    expect(count(statuses, 429) + count(statuses, 401) + count(statuses, 503)).toBe(40);
  });

  it('writes no link token, interaction id, code or token of a whole sign-in journey to the log', async () => {
    const { email, link } = await repWithPassword();
    const flow = await rp.start();
    const browser = new Browser(service.app);
    const done = await signInThroughPages(browser, flow.url, { email, password: GOOD_PASSWORD });
    const callback = new URL(done.leftTo as string);
    const tokens = await rp.exchange(callback.toString(), flow);
    await rp.refresh(tokens.refresh_token as string);
    // A second link, opened but not used, as a mail scanner would.
    await service.db.deleteFrom('signin_throttle').execute();
    const reset = await browser.request('GET', '/signin/reset');
    await browser.request('POST', '/signin/reset', { csrf: hiddenField(reset.body, 'csrf'), email });
    const resetLink = await service.linkMailedTo(email, 'Reset your Sales Reps password');
    await browser.request('GET', resetLink);

    const interactionUid = (
      await service.db.selectFrom('oidc_payload').select('id').where('model', '=', 'Interaction').execute()
    ).map((row) => row.id);
    const secrets = [
      link.split('/').pop() as string,
      resetLink.split('/').pop() as string,
      callback.searchParams.get('code') as string,
      tokens.access_token,
      tokens.refresh_token as string,
      tokens.id_token as string,
      ...interactionUid,
    ];
    expect(interactionUid.length).toBeGreaterThan(0);
    const log = service.logLines.join('\n');
    for (const secret of secrets) expect(log).not.toContain(secret);
    // The lines still say which page was asked for.
    expect(log).toContain('/signin/link/:token');
  });

  it('a password reset ends every session, grant and refresh token of the account', async () => {
    const { email } = await repWithPassword();
    const victim = await signedIn(email);
    const attacker = await signedIn(email);
    const resetBrowser = new Browser(service.app);
    const reset = await resetBrowser.request('GET', '/signin/reset');
    await service.db.deleteFrom('signin_throttle').execute();
    await resetBrowser.request('POST', '/signin/reset', { csrf: hiddenField(reset.body, 'csrf'), email });
    const link = await service.linkMailedTo(email, 'Reset your Sales Reps password');
    const newPassword = 'a brand new passphrase for me';
    expect((await setPasswordThroughLink(victim.browser, link, newPassword)).statusCode).toBe(200);

    await expect(rp.refresh(attacker.tokens.refresh_token as string)).rejects.toThrow();
    await expect(rp.refresh(victim.tokens.refresh_token as string)).rejects.toThrow();
    // The old browser session gets no code without the password.
    const silent = await attacker.browser.follow('GET', (await rp.start()).url);
    expect(silent.leftTo).toBeUndefined();
    expect(silent.response.body).toContain('<label for="password">Password</label>');
  });

  it("an admin's removal of the person's last organization ends its sessions and refresh tokens", async () => {
    const { email, rep } = await repWithPassword();
    const { browser, tokens } = await signedIn(email);
    const removed = await service.call('DELETE', REPS_URL, admin, {
      organizationSalesRepId: rep.organizationSalesRepId,
    });
    expect(removed.statusCode, removed.body).toBe(200);
    // The membership goes with the effect that follows the removal; the sessions with it.
    await eventually(async () => {
      const records = await service.db
        .selectFrom('oidc_payload')
        .select('model')
        .where(sql<string>`payload->>'accountId'`, '=', rep.identityProviderUserId)
        .execute();
      expect(records).toEqual([]);
    });
    await expect(rp.refresh(tokens.refresh_token as string)).rejects.toThrow();
    const silent = await browser.follow('GET', (await rp.start()).url);
    expect(silent.leftTo).toBeUndefined();
  });
});

describe.each(databaseKinds)('sign-in under a flood of password checks on %s', (kind) => {
  let service: SigninService;
  let rp: Awaited<ReturnType<typeof relyingParty>>;

  beforeAll(async () => {
    // The production cost: each check holds a thread of the pool long enough for a flood to queue up.
    service = await startSigninService(kind, { PASSWORD_SCRYPT_LOG2_N: '17' });
    rp = await relyingParty(service.app);
  });
  afterAll(async () => {
    await service?.close();
  });

  const floodFrom = async (
    addresses: (i: number) => string,
    size: number,
    answered: (status: number) => void = () => undefined,
  ) => {
    const browser = new Browser(service.app);
    const page = (await browser.follow('GET', (await rp.start()).url)).response.body;
    const action = formAction(page);
    const csrf = hiddenField(page, 'csrf');
    return Promise.all(
      Array.from({ length: size }, async (_, i) => {
        const response = await browser.request(
          'POST',
          action,
          { csrf, email: `flood${i}@example.com`, password: WRONG_PASSWORD },
          addresses(i),
        );
        answered(response.statusCode);
        return response;
      }),
    );
  };

  it('answers 503 with Retry-After beyond a small queue of password checks, and counts no failure for it', async () => {
    const answers = await floodFrom((i) => `203.0.113.${i + 1}`, 30);
    const busy = answers.filter((response) => response.statusCode === 503);
    expect(busy.length).toBeGreaterThan(0);
    for (const response of busy) {
      expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
      expect(response.body).toContain('The sign-in is busy');
    }
    expect(busy.length + answers.filter((response) => response.statusCode === 401).length).toBe(30);
    const counted = await service.db.selectFrom('signin_throttle').select('key').execute();
    expect(counted.filter((row) => row.key.startsWith('email:')).length).toBe(30 - busy.length);
  }, 180_000);

  it("lets a browser that signed in with the email before take its turn while others' guesses fill the queue", async () => {
    await service.db.deleteFrom('signin_throttle').execute();
    const organization = await service.createOrganization('Flooded Supply');
    const email = 'returning@example.com';
    await addRep(service, await service.adminToken(organization), { email });
    const returning = new Browser(service.app);
    await setPasswordThroughLink(returning, await service.linkMailedTo(email), GOOD_PASSWORD);
    const first = await signInThroughPages(returning, (await rp.start()).url, {
      email,
      password: GOOD_PASSWORD,
    });
    expect(first.leftTo?.startsWith(`${REDIRECT_URI}?code=`)).toBe(true);
    // A new sign-in (its session ended) from the same browser, which keeps only its device cookie.
    for (const name of [...returning.cookies.keys()])
      if (!name.includes('device')) returning.cookies.delete(name);
    expect([...returning.cookies.keys()]).toEqual(['salesreps_device']);
    const page = (await returning.follow('GET', (await rp.start()).url)).response.body;

    let sawBusy: () => void = () => undefined;
    const queueFull = new Promise<void>((resolve) => {
      sawBusy = resolve;
    });
    const flood = floodFrom(
      (i) => `198.18.0.${i + 1}`,
      30,
      (status) => {
        if (status === 503) sawBusy();
      },
    );
    await queueFull;
    const signedIn = await returning.follow('POST', formAction(page), {
      csrf: hiddenField(page, 'csrf'),
      email,
      password: GOOD_PASSWORD,
    });
    expect(signedIn.leftTo?.startsWith(`${REDIRECT_URI}?code=`)).toBe(true);
    expect((await flood).filter((response) => response.statusCode === 503).length).toBeGreaterThan(0);
  }, 180_000);

  it('lets one address have only a couple of attempts in flight', async () => {
    const answers = await floodFrom(() => '192.0.2.7', 8);
    const tooMany = answers.filter((response) => response.statusCode === 429);
    expect(tooMany.length).toBeGreaterThan(0);
    for (const response of tooMany) expect(response.body).toContain('Too many attempts at once');
    expect(answers.filter((response) => response.statusCode === 401).length).toBeGreaterThan(0);
  }, 180_000);
});
