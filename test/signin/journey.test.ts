import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { databaseKinds } from '../support/databases.js';
import { addRep, CUSTOMERS_URL, MY_ORGANIZATIONS_URL, REPS_URL } from '../support/fixtures.js';
import {
  Browser,
  GOOD_PASSWORD,
  PUBLIC_URL,
  REDIRECT_URI,
  relyingParty,
  type SigninService,
  setPasswordThroughLink,
  signInThroughPages,
  startSigninService,
} from './support.js';

describe.each(databaseKinds)('the sign-in journey on %s', (kind) => {
  let service: SigninService;
  let organization: Organization;
  let admin: string;
  let rp: Awaited<ReturnType<typeof relyingParty>>;

  const call = (method: 'GET' | 'POST' | 'PATCH', url: string, token: string, body?: object) =>
    service.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(body ? { payload: body } : {}),
    });

  beforeAll(async () => {
    service = await startSigninService(kind);
    organization = await service.createOrganization('Journey Supply');
    admin = await service.adminToken(organization);
    rp = await relyingParty(service.app);
  });
  afterAll(async () => {
    await service?.close();
  });

  it('discovery names PUBLIC_URL as the issuer, code flow with S256 only', () => {
    expect(rp.as.issuer).toBe(PUBLIC_URL);
    expect(rp.as.authorization_endpoint).toBe(`${PUBLIC_URL}/oidc/auth`);
    expect(rp.as.code_challenge_methods_supported).toEqual(['S256']);
    expect(rp.as.response_types_supported).toEqual(['code']);
  });

  it('invitation → set password → authorization code + PKCE → token → the API takes the token', async () => {
    const rep = await addRep({ call: (m, u, t, b) => call(m as 'GET', u, t, b as object) }, admin, {
      email: 'journey.rep@example.com',
    });
    const link = await service.linkMailedTo('journey.rep@example.com');
    expect(link).toMatch(/^http:\/\/salesreps\.test\/signin\/link\/[A-Za-z0-9_-]{43}$/);

    const browser = new Browser(service.app);
    const invitation = await browser.request('GET', link);
    expect(invitation.statusCode).toBe(200);
    expect(invitation.body).toContain('Journey Supply');
    const set = await setPasswordThroughLink(browser, link, GOOD_PASSWORD);
    expect(set.statusCode).toBe(200);
    expect(set.body).toContain('Your password is set');

    const flow = await rp.start();
    const signedIn = await signInThroughPages(browser, flow.url, {
      email: 'journey.rep@example.com',
      password: GOOD_PASSWORD,
    });
    expect(signedIn.leftTo?.startsWith(`${REDIRECT_URI}?code=`)).toBe(true);
    const tokens = await rp.exchange(signedIn.leftTo as string, flow);
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.refresh_token).toBeTruthy();

    const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1] ?? '', 'base64url').toString());
    expect(claims).toMatchObject({
      iss: PUBLIC_URL,
      aud: 'salesreps-api',
      sub: rep.identityProviderUserId,
      UserId: rep.identityProviderUserId,
      org_code: organization.identity_organization_id,
      roles: ['SalesRep'],
    });
    const mine = await call('GET', MY_ORGANIZATIONS_URL, tokens.access_token);
    expect(mine.statusCode, mine.body).toBe(200);
    expect(mine.json().salesRepOrganizations[0].organizationSalesRepId).toBe(rep.organizationSalesRepId);
    expect((await call('GET', CUSTOMERS_URL, tokens.access_token)).statusCode).toBe(200);

    // Rotating refresh tokens: the new one works, the one used is spent.
    const refreshed = await rp.refresh(tokens.refresh_token as string);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect((await call('GET', MY_ORGANIZATIONS_URL, refreshed.access_token)).statusCode).toBe(200);
    await expect(rp.refresh(tokens.refresh_token as string)).rejects.toThrow();

    // The used invitation link says so and offers a new one.
    const reused = await browser.request('GET', link);
    expect(reused.statusCode).toBe(410);
    expect(reused.body).toContain('Send me a new link');
  });

  it('a deactivated rep gets a clear page and no code; its refresh token stops working', async () => {
    const rep = await addRep({ call: (m, u, t, b) => call(m as 'GET', u, t, b as object) }, admin, {
      email: 'soon.inactive@example.com',
    });
    const browser = new Browser(service.app);
    await setPasswordThroughLink(
      browser,
      await service.linkMailedTo('soon.inactive@example.com'),
      GOOD_PASSWORD,
    );
    const flow = await rp.start();
    const first = await signInThroughPages(browser, flow.url, {
      email: 'soon.inactive@example.com',
      password: GOOD_PASSWORD,
    });
    const tokens = await rp.exchange(first.leftTo as string, flow);

    const deactivated = await call('POST', `${REPS_URL}/deactivate`, admin, {
      organizationSalesRepId: rep.organizationSalesRepId,
    });
    expect(deactivated.statusCode, deactivated.body).toBe(200);
    await expect(rp.refresh(tokens.refresh_token as string)).rejects.toThrow();

    const again = await signInThroughPages(new Browser(service.app), (await rp.start()).url, {
      email: 'soon.inactive@example.com',
      password: GOOD_PASSWORD,
    });
    expect(again.leftTo).toBeUndefined();
    expect(again.response.statusCode).toBe(403);
    expect(again.response.body).toContain('no access');

    // Activation restores sign-in, and the re-invitation (the rep has a password) is a plain "you have access" mail.
    const activated = await call('POST', `${REPS_URL}/activate`, admin, {
      organizationSalesRepId: rep.organizationSalesRepId,
    });
    expect(activated.statusCode, activated.body).toBe(200);
    const restored = await service.linkMailedTo('soon.inactive@example.com', 'is restored');
    expect(restored).toBe(`${PUBLIC_URL}/signin?org=${organization.identity_organization_id}`);
    const back = await rp.start();
    const signedInAgain = await signInThroughPages(new Browser(service.app), back.url, {
      email: 'soon.inactive@example.com',
      password: GOOD_PASSWORD,
    });
    expect(signedInAgain.leftTo?.startsWith(`${REDIRECT_URI}?code=`)).toBe(true);
  });

  it('a wrong password is refused with the same page as an unknown email, and no code', async () => {
    const flow = await rp.start();
    const wrong = await signInThroughPages(new Browser(service.app), flow.url, {
      email: 'journey.rep@example.com',
      password: 'not the password at all',
    });
    const unknown = await signInThroughPages(new Browser(service.app), (await rp.start()).url, {
      email: 'nobody.here@example.com',
      password: 'not the password at all',
    });
    expect(wrong.leftTo).toBeUndefined();
    expect(wrong.response.statusCode).toBe(401);
    expect(unknown.response.statusCode).toBe(401);
    const message = (html: string) => html.match(/role="alert">([^<]*)</)?.[1];
    expect(message(wrong.response.body)).toBe('The email or the password is not right.');
    expect(message(unknown.response.body)).toBe(message(wrong.response.body));
  });

  it('a person in several organizations chooses one on the page, or by org_code, and the token is for that one', async () => {
    const second = await service.createOrganization('Second Supply');
    const secondAdmin = await service.adminToken(second);
    await addRep({ call: (m, u, t, b) => call(m as 'GET', u, t, b as object) }, admin, {
      email: 'two.orgs@example.com',
    });
    await setPasswordThroughLink(
      new Browser(service.app),
      await service.linkMailedTo('two.orgs@example.com'),
      GOOD_PASSWORD,
    );
    await addRep({ call: (m, u, t, b) => call(m as 'GET', u, t, b as object) }, secondAdmin, {
      email: 'two.orgs@example.com',
    });
    // The second organization's membership is provisioned by the effect worker.
    await service.linkMailedTo('two.orgs@example.com', 'Second Supply');
    await new Promise((resolve) => setTimeout(resolve, 300));

    const flow = await rp.start();
    const chosen = await signInThroughPages(
      new Browser(service.app),
      flow.url,
      { email: 'two.orgs@example.com', password: GOOD_PASSWORD },
      second.identity_organization_id,
    );
    const tokens = await rp.exchange(chosen.leftTo as string, flow);
    const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1] ?? '', 'base64url').toString());
    expect(claims.org_code).toBe(second.identity_organization_id);

    const direct = await rp.start({ org_code: organization.identity_organization_id });
    const byCode = await signInThroughPages(new Browser(service.app), direct.url, {
      email: 'two.orgs@example.com',
      password: GOOD_PASSWORD,
    });
    const direct_tokens = await rp.exchange(byCode.leftTo as string, direct);
    const directClaims = JSON.parse(
      Buffer.from(direct_tokens.access_token.split('.')[1] ?? '', 'base64url').toString(),
    );
    expect(directClaims.org_code).toBe(organization.identity_organization_id);
  });
  it('a removed rep gets the no-access page at once, before its membership is revoked (last: it stops the worker)', async () => {
    const rep = await addRep({ call: (m, u, t, b) => call(m as 'GET', u, t, b as object) }, admin, {
      email: 'soon.removed@example.com',
    });
    await setPasswordThroughLink(
      new Browser(service.app),
      await service.linkMailedTo('soon.removed@example.com'),
      GOOD_PASSWORD,
    );
    await service.service.effects.close();
    const removed = await service.app.inject({
      method: 'DELETE',
      url: REPS_URL,
      headers: { authorization: `Bearer ${admin}` },
      payload: { organizationSalesRepId: rep.organizationSalesRepId },
    });
    expect(removed.statusCode, removed.body).toBe(200);
    // The worker is stopped: the membership is still there, the assignment is gone.
    const memberships = await service.db
      .selectFrom('idp_membership')
      .select('account_id')
      .where('account_id', '=', rep.identityProviderUserId)
      .execute();
    expect(memberships).toHaveLength(1);
    const attempt = await signInThroughPages(new Browser(service.app), (await rp.start()).url, {
      email: 'soon.removed@example.com',
      password: GOOD_PASSWORD,
    });
    expect(attempt.leftTo).toBeUndefined();
    expect(attempt.response.statusCode).toBe(403);
  });
});
