import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { eventually } from '../effects/support/wait.js';
import {
  formAction,
  GOOD_PASSWORD,
  hiddenField,
  PUBLIC_URL,
  REDIRECT_URI,
  relyingParty,
  type SigninService,
  setPasswordThroughLink,
  startSigninService,
} from '../signin/support.js';
import { databaseKinds } from '../support/databases.js';
import { addRep, MY_ORGANIZATIONS_URL, REPS_URL } from '../support/fixtures.js';
import {
  type HostileIdp,
  type IdTokenDefect,
  startHostileIdp,
  startTestIdp,
  type TestIdp,
  TwoSiteBrowser,
} from './support.js';

const SSO_URL = '/api/organizations/sso';

describe.each(databaseKinds)('signing in through the organization\u2019s OpenID provider on %s', (kind) => {
  let service: SigninService;
  let okta: TestIdp;
  let hostile: HostileIdp;
  let acme: Organization;
  let globex: Organization;
  let shady: Organization;
  let acmeAdmin: string;
  let rp: Awaited<ReturnType<typeof relyingParty>>;

  /** A rep the organization added, once the identity effect has made its account and membership. */
  const addedRep = async (admin: string, organization: Organization, email: string) => {
    const rep = await addRep(service, admin, { email });
    await eventually(async () => {
      const membership = await service.db
        .selectFrom('idp_membership')
        .select('account_id')
        .where('account_id', '=', rep.identityProviderUserId)
        .where('identity_organization_id', '=', organization.identity_organization_id)
        .executeTakeFirst();
      if (!membership) throw new Error('no membership yet');
    });
    return rep;
  };

  const eventsOf = async (admin: string, action: string) =>
    (await service.call('GET', `/api/organizations/events?action=${action}`, admin)).json() as {
      actor: { type: string; id: string };
      targets: { type: string; id: string }[];
      changes: Record<string, { from: unknown; to: unknown }>;
    }[];

  /** The relying party's authorization request, followed to the IdP's login form, where `subject` signs in. */
  const signInThroughIdp = async (subject: string, extra: Record<string, string> = {}) => {
    const browser = new TwoSiteBrowser(service.app, okta, hostile);
    const flow = await rp.start(extra);
    const atIdp = await browser.follow('GET', flow.url);
    expect(atIdp.url.startsWith(okta.issuer), atIdp.body.slice(0, 300)).toBe(true);
    const back = await browser.signInAtIdp(atIdp, subject);
    return { browser, flow, back };
  };

  beforeAll(async () => {
    okta = await startTestIdp();
    hostile = await startHostileIdp();
    service = await startSigninService(kind, { SSO_ALLOW_PRIVATE_NETWORKS: 'true' });
    acme = await service.createOrganization('Acme Supply');
    globex = await service.createOrganization('Globex Supply');
    shady = await service.createOrganization('Shady Supply');
    acmeAdmin = await service.adminToken(acme);
    rp = await relyingParty(service.app);
    const connect = await service.call('PUT', SSO_URL, acmeAdmin, {
      protocol: 'oidc',
      issuer: okta.issuer,
      clientId: okta.clientId,
      clientSecret: okta.clientSecret,
      domains: ['acme.example'],
    });
    expect(connect.statusCode, connect.body).toBe(200);
    const shadyConnect = await service.call('PUT', SSO_URL, await service.adminToken(shady), {
      protocol: 'oidc',
      issuer: hostile.issuer,
      clientId: hostile.clientId,
      clientSecret: hostile.clientSecret,
      domains: ['shady.example'],
    });
    expect(shadyConnect.statusCode, shadyConnect.body).toBe(200);
  });
  afterAll(async () => {
    await service?.close();
    await okta?.close();
    await hostile?.close();
  });

  it('a rep signs in at the IdP (org_code goes straight there), gets the service\u2019s own token and calls the API', async () => {
    const rep = await addedRep(acmeAdmin, acme, 'wile@acme.example');
    okta.people.set('okta-wile', { email: 'Wile@Acme.Example', emailVerified: true });
    const { flow, back } = await signInThroughIdp('okta-wile', { org_code: acme.identity_organization_id });
    expect(back.leftTo?.startsWith(`${REDIRECT_URI}?code=`), back.body.slice(0, 300)).toBe(true);
    const tokens = await rp.exchange(back.leftTo as string, flow);
    const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1] ?? '', 'base64url').toString());
    expect(claims).toMatchObject({
      iss: PUBLIC_URL,
      sub: rep.identityProviderUserId,
      UserId: rep.identityProviderUserId,
      org_code: acme.identity_organization_id,
      roles: ['SalesRep'],
    });
    const mine = await service.call('GET', MY_ORGANIZATIONS_URL, tokens.access_token);
    expect(mine.statusCode, mine.body).toBe(200);
    expect(mine.json().salesRepOrganizations).toEqual([
      expect.objectContaining({ organizationId: acme.id, salesRepId: rep.salesRepId, active: true }),
    ]);
    // The IdP's code and state, and the client secret, are never logged.
    const log = service.logLines.join('\n');
    expect(log).toContain('/signin/sso/callback');
    expect(log).not.toMatch(/[?&](code|state)=(?!\[redacted\])/);
    expect(log).not.toContain(okta.clientSecret);
    expect(await eventsOf(acmeAdmin, 'sign_in.succeeded')).toEqual([
      expect.objectContaining({
        actor: { type: 'user', id: rep.identityProviderUserId },
        changes: { method: { from: null, to: 'sso' } },
      }),
    ]);
  });

  it('the IdP subject is remembered: the next sign-in finds the person by it, whatever email the IdP says', async () => {
    okta.people.set('okta-wile', { email: 'wile.e.coyote@acme.example', emailVerified: false });
    const { flow, back } = await signInThroughIdp('okta-wile', { org_code: acme.identity_organization_id });
    expect(back.leftTo?.startsWith(`${REDIRECT_URI}?code=`), back.body.slice(0, 300)).toBe(true);
    const tokens = await rp.exchange(back.leftTo as string, flow);
    expect((await service.call('GET', MY_ORGANIZATIONS_URL, tokens.access_token)).statusCode).toBe(200);
  });

  it('on the sign-in page, an email of a domain a connection serves is sent to that IdP (home-realm discovery)', async () => {
    await addedRep(acmeAdmin, acme, 'road.runner@acme.example');
    okta.people.set('okta-runner', { email: 'road.runner@acme.example', emailVerified: true });
    const browser = new TwoSiteBrowser(service.app, okta, hostile);
    const flow = await rp.start();
    const page = await browser.follow('GET', flow.url);
    expect(page.body).toContain('Password');
    const atIdp = await browser.follow('POST', new URL(formAction(page.body), PUBLIC_URL).href, {
      csrf: hiddenField(page.body, 'csrf'),
      email: 'road.runner@acme.example',
      password: '',
    });
    expect(atIdp.url.startsWith(okta.issuer)).toBe(true);
    const back = await browser.signInAtIdp(atIdp, 'okta-runner');
    expect(back.leftTo?.startsWith(`${REDIRECT_URI}?code=`), back.body.slice(0, 300)).toBe(true);
    const tokens = await rp.exchange(back.leftTo as string, flow);
    const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1] ?? '', 'base64url').toString());
    expect(claims.org_code).toBe(acme.identity_organization_id);
  });

  it('an authorization request for a connected organization goes to its IdP: code flow, PKCE S256, state, nonce, openid email', async () => {
    const browser = new TwoSiteBrowser(service.app, okta, hostile);
    const flow = await rp.start({ org_code: acme.identity_organization_id });
    const first = await browser.request('GET', flow.url);
    const interaction = await browser.request('GET', first.location as string);
    // The interaction shows no password form: it sends the browser to the IdP at once.
    expect(interaction.location?.startsWith(okta.issuer)).toBe(true);
    const uid = new URL(interaction.location as string);
    expect(uid.searchParams.get('code_challenge_method')).toBe('S256');
    expect(uid.searchParams.get('scope')).toBe('openid email');
    expect(uid.searchParams.get('redirect_uri')).toBe(`${PUBLIC_URL}/signin/sso/callback`);
    expect(uid.searchParams.get('state')).toBeTruthy();
    expect(uid.searchParams.get('nonce')).toBeTruthy();
  });

  it('a person the organization never added gets a page saying so, no code, and a sign_in.refused event', async () => {
    okta.people.set('okta-stranger', { email: 'stranger@acme.example', emailVerified: true });
    const { back } = await signInThroughIdp('okta-stranger', { org_code: acme.identity_organization_id });
    expect(back.leftTo).toBeUndefined();
    expect(back.statusCode).toBe(403);
    expect(back.body).toContain('has not given you access');
    expect(await eventsOf(acmeAdmin, 'sign_in.refused')).toContainEqual(
      expect.objectContaining({
        actor: { type: 'user', id: 'sso:okta-stranger' },
        changes: { method: { from: null, to: 'sso' }, reason: { from: null, to: 'unknown' } },
      }),
    );
  });

  it('an email the IdP did not verify links no one', async () => {
    await addedRep(acmeAdmin, acme, 'unverified@acme.example');
    okta.people.set('okta-unverified', { email: 'unverified@acme.example', emailVerified: false });
    const { back } = await signInThroughIdp('okta-unverified', { org_code: acme.identity_organization_id });
    expect(back.leftTo).toBeUndefined();
    expect(back.statusCode).toBe(403);
    expect(back.body).toContain('did not confirm your email');
  });

  it('a deactivated rep is refused with a page and a sign_in.refused event (method sso), and no code', async () => {
    const rep = await addedRep(acmeAdmin, acme, 'bugs@acme.example');
    okta.people.set('okta-bugs', { email: 'bugs@acme.example', emailVerified: true });
    const deactivated = await service.call('POST', `${REPS_URL}/deactivate`, acmeAdmin, {
      organizationSalesRepId: rep.organizationSalesRepId,
    });
    expect(deactivated.statusCode).toBe(200);
    const { back } = await signInThroughIdp('okta-bugs', { org_code: acme.identity_organization_id });
    expect(back.leftTo).toBeUndefined();
    expect(back.statusCode).toBe(403);
    expect(back.body).toContain('No access');
    expect(await eventsOf(acmeAdmin, 'sign_in.refused')).toContainEqual(
      expect.objectContaining({
        actor: { type: 'user', id: rep.identityProviderUserId },
        changes: { method: { from: null, to: 'sso' } },
      }),
    );
  });

  it('an answer with a state the service never sent is refused, and gives no code', async () => {
    await addedRep(acmeAdmin, acme, 'daffy@acme.example');
    okta.people.set('okta-daffy', { email: 'daffy@acme.example', emailVerified: true });
    const browser = new TwoSiteBrowser(service.app, okta, hostile);
    const flow = await rp.start({ org_code: acme.identity_organization_id });
    const atIdp = await browser.follow('GET', flow.url);
    const action = atIdp.body.match(/<form[^>]*action="([^"]+)"/)?.[1] as string;
    // One hop at a time: the IdP's answer is caught before it reaches the service, and its state changed.
    let step = await browser.request('POST', new URL(action, atIdp.url).href, {
      prompt: 'login',
      login: 'okta-daffy',
      password: 'x',
    });
    let at = new URL(action, atIdp.url).href;
    while (step.location && !step.location.startsWith(`${PUBLIC_URL}/signin/sso/callback`)) {
      at = new URL(step.location, at).href;
      step = await browser.request('GET', at);
    }
    const answer = new URL(step.location as string);
    answer.searchParams.set('state', 'forged-state');
    const refused = await browser.follow('GET', answer.href);
    expect(refused.leftTo).toBeUndefined();
    expect(refused.statusCode).toBe(400);
  });

  it('a session signed in through Acme\u2019s IdP gets no code for another organization of the same person', async () => {
    const rep = await addedRep(acmeAdmin, acme, 'porky@acme.example');
    await addedRep(await service.adminToken(globex), globex, 'porky@acme.example');
    okta.people.set('okta-porky', { email: 'porky@acme.example', emailVerified: true });
    const { browser, back } = await signInThroughIdp('okta-porky', {
      org_code: acme.identity_organization_id,
    });
    expect(back.leftTo?.startsWith(`${REDIRECT_URI}?code=`)).toBe(true);
    const other = await rp.start({ org_code: globex.identity_organization_id });
    const elsewhere = await browser.follow('GET', other.url);
    expect(elsewhere.leftTo).toBeUndefined();
    expect(elsewhere.body).toContain('Password');
    expect(rep.identityProviderUserId).toBeTruthy();
  });

  it('an IdP that takes only client_secret_post is answered with it (discovery says which)', async () => {
    const postOnly = await startTestIdp({ authMethod: 'client_secret_post' });
    try {
      const initech = await service.createOrganization('Initech Supply');
      const initechAdmin = await service.adminToken(initech);
      const connect = await service.call('PUT', SSO_URL, initechAdmin, {
        protocol: 'oidc',
        issuer: postOnly.issuer,
        clientId: postOnly.clientId,
        clientSecret: postOnly.clientSecret,
        domains: [],
      });
      expect(connect.statusCode, connect.body).toBe(200);
      await addedRep(initechAdmin, initech, 'milton@initech.example');
      postOnly.people.set('post-milton', { email: 'milton@initech.example', emailVerified: true });
      const browser = new TwoSiteBrowser(service.app, postOnly);
      const flow = await rp.start({ org_code: initech.identity_organization_id });
      const atIdp = await browser.follow('GET', flow.url);
      const back = await browser.signInAtIdp(atIdp, 'post-milton');
      expect(back.leftTo?.startsWith(`${REDIRECT_URI}?code=`), back.body.slice(0, 300)).toBe(true);
    } finally {
      await postOnly.close();
    }
  });

  it('a password session is granted no organization that signs in only through its IdP', async () => {
    const email = 'elmer@elsewhere.example';
    await addedRep(acmeAdmin, acme, email);
    const link = await service.linkMailedTo(email);
    const browser = new TwoSiteBrowser(service.app, okta, hostile);
    expect((await setPasswordThroughLink(browser.service, link, GOOD_PASSWORD)).statusCode).toBe(200);
    const flow = await rp.start();
    const page = await browser.follow('GET', flow.url);
    const refused = await browser.follow('POST', new URL(formAction(page.body), PUBLIC_URL).href, {
      csrf: hiddenField(page.body, 'csrf'),
      email,
      password: GOOD_PASSWORD,
    });
    expect(refused.leftTo).toBeUndefined();
    expect(refused.statusCode).toBe(403);
    expect(refused.body).toContain('No access');
  });

  it('once its organization is connected, a password session gets no more codes there: it goes to the IdP', async () => {
    const wayne = await service.createOrganization('Wayne Supply');
    const wayneAdmin = await service.adminToken(wayne);
    const email = 'alfred@wayne.example';
    await addedRep(wayneAdmin, wayne, email);
    const browser = new TwoSiteBrowser(service.app, okta, hostile);
    expect(
      (await setPasswordThroughLink(browser.service, await service.linkMailedTo(email), GOOD_PASSWORD))
        .statusCode,
    ).toBe(200);
    const first = await rp.start({ org_code: wayne.identity_organization_id });
    const page = await browser.follow('GET', first.url);
    const signedIn = await browser.follow('POST', new URL(formAction(page.body), PUBLIC_URL).href, {
      csrf: hiddenField(page.body, 'csrf'),
      email,
      password: GOOD_PASSWORD,
    });
    expect(signedIn.leftTo?.startsWith(`${REDIRECT_URI}?code=`)).toBe(true);
    // The same session signs in again without a form, until the organization connects its IdP.
    const again = await browser.follow(
      'GET',
      (await rp.start({ org_code: wayne.identity_organization_id })).url,
    );
    expect(again.leftTo?.startsWith(`${REDIRECT_URI}?code=`)).toBe(true);
    const connect = await service.call('PUT', SSO_URL, wayneAdmin, {
      protocol: 'oidc',
      issuer: okta.issuer,
      clientId: okta.clientId,
      clientSecret: okta.clientSecret,
      domains: [],
    });
    expect(connect.statusCode).toBe(200);
    const afterwards = await browser.follow(
      'GET',
      (await rp.start({ org_code: wayne.identity_organization_id })).url,
    );
    expect(afterwards.leftTo).toBeUndefined();
    expect(afterwards.url.startsWith(okta.issuer)).toBe(true);
  });

  it('with passwordSignIn true, the sign-in page stays: a password works, an empty one goes to the IdP', async () => {
    const umbrella = await service.createOrganization('Umbrella Supply');
    const umbrellaAdmin = await service.adminToken(umbrella);
    const connect = await service.call('PUT', SSO_URL, umbrellaAdmin, {
      protocol: 'oidc',
      issuer: okta.issuer,
      clientId: okta.clientId,
      clientSecret: okta.clientSecret,
      domains: ['umbrella.example'],
      passwordSignIn: true,
    });
    expect(connect.statusCode, connect.body).toBe(200);
    const email = 'alice@umbrella.example';
    await addedRep(umbrellaAdmin, umbrella, email);
    okta.people.set('okta-alice', { email, emailVerified: true });
    const browser = new TwoSiteBrowser(service.app, okta, hostile);
    expect(
      (await setPasswordThroughLink(browser.service, await service.linkMailedTo(email), GOOD_PASSWORD))
        .statusCode,
    ).toBe(200);

    const withPassword = await rp.start({ org_code: umbrella.identity_organization_id });
    const page = await browser.follow('GET', withPassword.url);
    expect(page.body).toContain('Password');
    const signedIn = await browser.follow('POST', new URL(formAction(page.body), PUBLIC_URL).href, {
      csrf: hiddenField(page.body, 'csrf'),
      email,
      password: GOOD_PASSWORD,
    });
    expect(signedIn.leftTo?.startsWith(`${REDIRECT_URI}?code=`), signedIn.body.slice(0, 300)).toBe(true);

    const throughIdp = new TwoSiteBrowser(service.app, okta, hostile);
    const flow = await rp.start();
    const fresh = await throughIdp.follow('GET', flow.url);
    const atIdp = await throughIdp.follow('POST', new URL(formAction(fresh.body), PUBLIC_URL).href, {
      csrf: hiddenField(fresh.body, 'csrf'),
      email,
      password: '',
    });
    expect(atIdp.url.startsWith(okta.issuer)).toBe(true);
    const back = await throughIdp.signInAtIdp(atIdp, 'okta-alice');
    expect(back.leftTo?.startsWith(`${REDIRECT_URI}?code=`), back.body.slice(0, 300)).toBe(true);
  });

  it.each([
    ['issuer', 'an ID token of another issuer'],
    ['audience', 'an ID token for another client'],
    ['nonce', 'an ID token with another nonce'],
    ['expired', 'an expired ID token'],
    ['signature', 'an ID token signed by a key not in the IdP\u2019s JWKS'],
  ] as [IdTokenDefect, string][])('%s: %s is refused, and gives no code', async (defect) => {
    const shadyAdmin = await service.adminToken(shady);
    await addedRep(shadyAdmin, shady, `victim-${defect}@shady.example`);
    hostile.next = { defect, subject: `hostile-${defect}`, email: `victim-${defect}@shady.example` };
    const browser = new TwoSiteBrowser(service.app, okta, hostile);
    const flow = await rp.start({ org_code: shady.identity_organization_id });
    const back = await browser.follow('GET', flow.url);
    expect(back.leftTo).toBeUndefined();
    expect(back.statusCode).toBe(401);
    expect(back.body).toContain('did not sign you in');
  });

  it('the same hostile IdP with nothing wrong signs the rep in: the refusals above are for their defect', async () => {
    const shadyAdmin = await service.adminToken(shady);
    await addedRep(shadyAdmin, shady, 'fine@shady.example');
    hostile.next = { defect: 'none', subject: 'hostile-fine', email: 'fine@shady.example' };
    const browser = new TwoSiteBrowser(service.app, okta, hostile);
    const flow = await rp.start({ org_code: shady.identity_organization_id });
    const back = await browser.follow('GET', flow.url);
    expect(back.leftTo?.startsWith(`${REDIRECT_URI}?code=`), back.body.slice(0, 300)).toBe(true);
  });
});
