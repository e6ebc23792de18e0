import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { REDIRECT_URI, relyingParty, type SigninService, startSigninService } from '../signin/support.js';
import { databaseKinds } from '../support/databases.js';
import { REPS_URL } from '../support/fixtures.js';
import { addedRep, answerAtSamlIdp, eventsOf, oidcSignIn, SSO_URL, samlSpOf } from './journeys.js';
import { IDP_KEYS, testIdp } from './saml/support.js';
import { startTestIdp, type TestIdp, TwoSiteBrowser } from './support.js';

const TEST_URL = '/api/organizations/sso/test';
const ENTRA_SSO = 'https://login.microsoftonline.com/8f1c3c4e-1f7a-4a4e-9c55-0d1f3b0b7a11/saml2';
const entra = testIdp({
  entityId: 'https://sts.windows.net/8f1c3c4e-1f7a-4a4e-9c55-0d1f3b0b7a11/',
  ssoUrl: ENTRA_SSO,
  keys: IDP_KEYS.entra,
});

describe.each(databaseKinds)('a test sign-in at the organization\u2019s IdP on %s', (kind) => {
  let service: SigninService;
  let okta: TestIdp;
  let acme: Organization;
  let globex: Organization;
  let acmeAdmin: string;
  let globexAdmin: string;
  let rp: Awaited<ReturnType<typeof relyingParty>>;

  const startTest = async (admin: string) => {
    const response = await service.call('POST', TEST_URL, admin, {});
    expect(response.statusCode, response.body).toBe(201);
    return (response.json() as { url: string }).url;
  };
  /** A test at Acme's OpenID provider where `subject` signs in: the page the answer comes back to. */
  const testAtOkta = async (subject: string) => {
    const browser = new TwoSiteBrowser(service.app, okta);
    const atIdp = await browser.follow('GET', await startTest(acmeAdmin));
    expect(atIdp.url.startsWith(okta.issuer), atIdp.body.slice(0, 300)).toBe(true);
    return { browser, answer: await browser.signInAtIdp(atIdp, subject) };
  };

  beforeAll(async () => {
    okta = await startTestIdp();
    service = await startSigninService(kind, { SSO_ALLOW_PRIVATE_NETWORKS: 'true' });
    acme = await service.createOrganization('Acme Supply');
    globex = await service.createOrganization('Globex Supply');
    acmeAdmin = await service.adminToken(acme);
    globexAdmin = await service.adminToken(globex);
    rp = await relyingParty(service.app);
    const connect = await service.call('PUT', SSO_URL, acmeAdmin, {
      protocol: 'oidc',
      issuer: okta.issuer,
      clientId: okta.clientId,
      clientSecret: okta.clientSecret,
      domains: ['acme.example'],
    });
    expect(connect.statusCode, connect.body).toBe(200);
    const samlConnect = await service.call('PUT', SSO_URL, globexAdmin, {
      protocol: 'saml',
      metadataXml: entra.metadata(),
      domains: ['globex.example'],
    });
    expect(samlConnect.statusCode, samlConnect.body).toBe(200);
  });
  afterAll(async () => {
    await service?.close();
    await okta?.close();
  });

  it('OpenID Connect: the page shows the ID token\u2019s claims (no token) and the rep it would sign in; nothing is signed in or remembered', async () => {
    await addedRep(service, acmeAdmin, acme, 'wile@acme.example');
    okta.people.set('okta-wile-test', { email: 'wile@acme.example', emailVerified: true });
    const { answer } = await testAtOkta('okta-wile-test');
    expect(answer.leftTo).toBeUndefined();
    expect(answer.statusCode, answer.body.slice(0, 500)).toBe(200);
    expect(answer.body).toContain('<h1>Test sign-in</h1>');
    expect(answer.body).toContain('ID token claims');
    expect(answer.body).toContain('okta-wile-test');
    expect(answer.body).toContain(okta.issuer);
    expect(answer.body).toContain('It would sign in');
    expect(answer.body).toContain('wile@acme.example');
    expect(answer.body).toContain('found by the verified email');
    expect(answer.body).not.toMatch(/eyJ[A-Za-z0-9_-]+\./);
    expect(answer.body).not.toContain('>nonce<');
    expect(answer.body).not.toContain(okta.clientSecret);
    expect(await eventsOf(service, acmeAdmin, 'sign_in.succeeded')).toEqual([]);
    // The test remembered no subject: another subject with the rep's verified email signs in for real.
    okta.people.set('okta-wile', { email: 'wile@acme.example', emailVerified: true });
    const { back } = await oidcSignIn(service, rp, okta, acme, 'okta-wile');
    expect(back.leftTo?.startsWith(`${REDIRECT_URI}?code=`), back.body.slice(0, 300)).toBe(true);
    // Now the rep is found by that subject.
    const byRemembered = await testAtOkta('okta-wile');
    expect(byRemembered.answer.body).toContain('found by the identity provider subject remembered');
    expect(byRemembered.answer.body).toContain('wile@acme.example');
  });

  it('the test\u2019s state is single-use: the same answer brought again is refused', async () => {
    okta.people.set('okta-replay', { email: 'wile@acme.example', emailVerified: true });
    const browser = new TwoSiteBrowser(service.app, okta);
    const atIdp = await browser.follow('GET', await startTest(acmeAdmin));
    const login = atIdp.body.match(/<form[^>]*action="([^"]+)"/)?.[1] as string;
    // The IdP's answer, caught before the browser brings it.
    let callback: string | undefined;
    let response = await browser.request('POST', new URL(login, atIdp.url).href, {
      prompt: 'login',
      login: 'okta-replay',
      password: 'anything',
    });
    for (let hop = 0; hop < 10 && !callback; hop++) {
      const next = response.location as string;
      if (next.includes('/signin/sso/callback')) callback = next;
      else response = await browser.request('GET', next);
    }
    const first = await browser.request('GET', callback as string);
    expect(first.statusCode, first.body.slice(0, 300)).toBe(200);
    const again = await browser.request('GET', callback as string);
    expect(again.statusCode).toBe(400);
    expect(again.body).not.toContain('okta-replay');
  });

  it('says why it would refuse: a stranger, an unverified email, a deactivated rep', async () => {
    okta.people.set('okta-stranger', { email: 'stranger@acme.example', emailVerified: true });
    const stranger = await testAtOkta('okta-stranger');
    expect(stranger.answer.statusCode).toBe(200);
    expect(stranger.answer.body).toContain('matches no one the organization added');
    expect(await eventsOf(service, acmeAdmin, 'sign_in.refused')).toEqual([]);

    okta.people.set('okta-unverified', { email: 'unverified@acme.example', emailVerified: false });
    expect((await testAtOkta('okta-unverified')).answer.body).toContain('did not confirm the email address');

    const rep = await addedRep(service, acmeAdmin, acme, 'bugs@acme.example');
    const deactivated = await service.call('POST', `${REPS_URL}/deactivate`, acmeAdmin, {
      organizationSalesRepId: rep.organizationSalesRepId,
    });
    expect(deactivated.statusCode).toBe(200);
    okta.people.set('okta-bugs', { email: 'bugs@acme.example', emailVerified: true });
    const answer = (await testAtOkta('okta-bugs')).answer.body;
    expect(answer).toContain('bugs@acme.example');
    expect(answer).toContain('deactivated');
  });

  it('SAML: the page shows the assertion\u2019s NameID and attributes and whom it would sign in', async () => {
    await addedRep(service, globexAdmin, globex, 'road.runner@globex.example');
    const url = await startTest(globexAdmin);
    expect(url.startsWith(`${ENTRA_SSO}?`)).toBe(true);
    const at = await samlSpOf(service, globexAdmin, entra);
    const browser = new TwoSiteBrowser(service.app);
    const answer = await answerAtSamlIdp(browser, entra, at, url, {
      nameId: 'entra-road-runner',
      email: 'road.runner@globex.example',
    });
    expect(answer.statusCode, answer.body.slice(0, 500)).toBe(200);
    expect(answer.body).toContain('<h1>Test sign-in</h1>');
    expect(answer.body).toContain('entra-road-runner');
    expect(answer.body).toContain('Assertion attributes');
    expect(answer.body).toContain('displayName');
    expect(answer.body).toContain('It would sign in');
    expect(answer.body).toContain('road.runner@globex.example');
    expect(answer.body).not.toContain('SAMLResponse');
    // Nothing remembered: the rep's real sign-in with another NameID is still matched by its email.
    const again = await answerAtSamlIdp(browser, entra, at, await startTest(globexAdmin), {
      nameId: 'entra-road-runner-2',
      email: 'road.runner@globex.example',
    });
    expect(again.body).toContain('found by the verified email');
  });

  it('an organization without a connection gets 404; a body with fields is 400', async () => {
    const initech = await service.createOrganization('Initech');
    const none = await service.call('POST', TEST_URL, await service.adminToken(initech), {});
    expect(none.statusCode).toBe(404);
    const extra = await service.call('POST', TEST_URL, acmeAdmin, { org: 'x' });
    expect(extra.statusCode).toBe(400);
  });
});
