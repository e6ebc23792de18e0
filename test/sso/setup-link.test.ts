import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import {
  Browser,
  formAction,
  hiddenField,
  PUBLIC_URL,
  type SigninService,
  startSigninService,
} from '../signin/support.js';
import { databaseKinds } from '../support/databases.js';
import { addedRep, eventsOf, SSO_URL } from './journeys.js';
import { startTestIdp, type TestIdp, TwoSiteBrowser } from './support.js';

const LINKS_URL = '/api/organizations/sso/setup-links';

/** The setup page's fields, as a browser would post them (its CSRF token included). */
const setupForm = (page: string, fields: Record<string, string>) => ({
  csrf: hiddenField(page, 'csrf'),
  protocol: 'oidc',
  issuer: '',
  clientId: '',
  clientSecret: '',
  metadataUrl: '',
  metadataXml: '',
  domains: '',
  ...fields,
});

describe.each(databaseKinds)('the single-use setup link on %s', (kind) => {
  let service: SigninService;
  let okta: TestIdp;
  let acme: Organization;
  let globex: Organization;
  let acmeAdmin: string;

  const newLink = async (admin: string, body: Record<string, unknown> = {}) => {
    const response = await service.call('POST', LINKS_URL, admin, body);
    expect(response.statusCode, response.body).toBe(201);
    return response.json() as { url: string; expiresAt: string };
  };
  const oktaFields = (domains = 'acme.example') => ({
    issuer: okta.issuer,
    clientId: okta.clientId,
    clientSecret: okta.clientSecret,
    domains,
  });

  beforeAll(async () => {
    okta = await startTestIdp();
    service = await startSigninService(kind, { SSO_ALLOW_PRIVATE_NETWORKS: 'true' });
    acme = await service.createOrganization('Acme Supply');
    globex = await service.createOrganization('Globex Supply');
    acmeAdmin = await service.adminToken(acme);
  });
  afterAll(async () => {
    await service?.close();
    await okta?.close();
  });

  it('an Admin creates a link shown once: 24 hours by default, 1 to 168 hours, an event, only its hash stored', async () => {
    const before = Date.now();
    const link = await newLink(acmeAdmin);
    expect(link.url).toMatch(new RegExp(`^${PUBLIC_URL}/sso/setup/[A-Za-z0-9_-]{43}$`));
    expect(Date.parse(link.expiresAt) - before).toBeGreaterThanOrEqual(24 * 3600_000 - 1000);
    expect(Date.parse(link.expiresAt) - before).toBeLessThan(24 * 3600_000 + 60_000);
    const short = await newLink(acmeAdmin, { expiresInHours: 1 });
    expect(Date.parse(short.expiresAt) - before).toBeLessThan(3600_000 + 60_000);
    for (const expiresInHours of [0, 169, 1.5]) {
      const refused = await service.call('POST', LINKS_URL, acmeAdmin, { expiresInHours });
      expect(refused.statusCode, refused.body).toBe(400);
    }
    const token = short.url.split('/').at(-1) as string;
    const stored = await service.db.selectFrom('sso_setup_link').select('token_hash').execute();
    expect(stored.map((row) => row.token_hash)).not.toContain(token);
    const events = await eventsOf(service, acmeAdmin, 'sso.setup_link_created');
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({
      actor: { type: 'user', id: 'admin-1' },
      targets: [{ type: 'sso_setup_link', id: expect.any(String) }],
      changes: { expiresAt: { from: null, to: short.expiresAt } },
    });
    expect(JSON.stringify(events)).not.toContain(token);
  });

  it('only an Admin creates one', async () => {
    const rep = await addedRep(service, acmeAdmin, acme, 'rep.no.links@acme.example');
    const repToken = await service.issuer.sign(
      {
        userId: rep.identityProviderUserId,
        organization: acme.identity_organization_id,
        roles: ['SalesRep'],
      },
      600,
    );
    expect((await service.call('POST', LINKS_URL, repToken, {})).statusCode).toBe(403);
  });

  it('the page needs no account: it shows the values for the IdP, under the sign-in pages\u2019 policy, and the SP metadata is served already', async () => {
    const link = await newLink(acmeAdmin);
    const browser = new Browser(service.app);
    const page = await browser.request('GET', link.url);
    expect(page.statusCode, page.body).toBe(200);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.headers['content-security-policy']).toContain("form-action 'self'");
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.body).toContain('Acme Supply');
    expect(page.body).toContain(`${PUBLIC_URL}/signin/sso/callback`);
    const spEntityId = page.body.match(
      /(http:\/\/salesreps\.test\/signin\/sso\/saml\/[^/<]+\/metadata)/,
    )?.[1];
    expect(spEntityId).toBeDefined();
    expect(page.body).toContain((spEntityId as string).replace(/metadata$/, 'acs'));
    const metadata = await browser.request('GET', spEntityId as string);
    expect(metadata.statusCode).toBe(200);
    expect(metadata.body).toContain(`entityID="${spEntityId}"`);
  });

  it('an IT admin saves an OpenID Connect connection through it: the same checks as PUT, the event\u2019s actor the link, then a test sign-in', async () => {
    await addedRep(service, acmeAdmin, acme, 'wile@acme.example');
    okta.people.set('okta-wile', { email: 'wile@acme.example', emailVerified: true });
    const link = await newLink(acmeAdmin);
    const browser = new TwoSiteBrowser(service.app, okta);
    const page = await browser.service.request('GET', link.url);
    const shownEntityId = page.body.match(
      /(http:\/\/salesreps\.test\/signin\/sso\/saml\/[^/<]+\/metadata)/,
    )?.[1];

    // An issuer that cannot be used is the PUT's 400, naming the field; the link still works.
    const unusable = await browser.service.request(
      'POST',
      formAction(page.body),
      setupForm(page.body, { ...oktaFields(), issuer: 'http://127.0.0.1:9' }),
    );
    expect(unusable.statusCode, unusable.body).toBe(400);
    expect(unusable.body).toContain('issuer');
    expect(unusable.body).not.toContain(okta.clientSecret);
    const invalid = await browser.service.request(
      'POST',
      formAction(page.body),
      setupForm(page.body, { ...oktaFields('not a domain'), issuer: okta.issuer }),
    );
    expect(invalid.statusCode, invalid.body).toBe(400);
    expect(invalid.body).toContain('domains');

    const saved = await browser.service.request(
      'POST',
      formAction(page.body),
      setupForm(page.body, oktaFields()),
    );
    expect(saved.statusCode, saved.body).toBe(200);
    expect(saved.body).toContain('Single sign-on is set up');
    const shown = await service.call('GET', SSO_URL, acmeAdmin);
    expect(shown.json()).toMatchObject({
      protocol: 'oidc',
      issuer: okta.issuer,
      clientId: okta.clientId,
      domains: ['acme.example'],
      passwordSignIn: false,
      spEntityId: shownEntityId,
    });
    const [updated] = await eventsOf(service, acmeAdmin, 'sso.connection_updated');
    expect(updated?.actor).toEqual({ type: 'user', id: expect.stringMatching(/^setup-link:/) });
    expect(JSON.stringify(updated)).not.toContain(okta.clientSecret);

    // The saved page offers a test sign-in: one round trip, whose answer is shown.
    const testHref = saved.body.match(/<a href="([^"]+)">Test sign-in<\/a>/)?.[1]?.replaceAll('&amp;', '&');
    expect(testHref?.startsWith(okta.issuer)).toBe(true);
    const atIdp = await browser.follow('GET', testHref as string);
    const answered = await browser.signInAtIdp(atIdp, 'okta-wile');
    expect(answered.statusCode, answered.body.slice(0, 500)).toBe(200);
    expect(answered.body).toContain('<h1>Test sign-in</h1>');
    expect(answered.body).toContain('It would sign in');
    expect(answered.body).toContain('wile@acme.example');

    // Used: the link's page says so, and a second save through it changes nothing.
    const again = await browser.service.request('GET', link.url);
    expect(again.statusCode).toBe(410);
    expect(again.body).not.toContain('Acme Supply');
    const resaved = await browser.service.request(
      'POST',
      formAction(page.body),
      setupForm(page.body, oktaFields('acme-two.example')),
    );
    expect(resaved.statusCode).toBe(410);
    expect((await service.call('GET', SSO_URL, acmeAdmin)).json().domains).toEqual(['acme.example']);
  });

  it('with a connection set, the page offers to test it before replacing it', async () => {
    const link = await newLink(acmeAdmin);
    const browser = new TwoSiteBrowser(service.app, okta);
    const page = await browser.service.request('GET', link.url);
    expect(page.body).toContain('A connection is set');
    const test = await browser.service.request('GET', `${link.url}/test`);
    expect(test.statusCode).toBe(303);
    expect(String(test.headers.location).startsWith(okta.issuer)).toBe(true);
  });

  it('a domain another organization serves is refused on the page as by PUT (409)', async () => {
    const link = await newLink(await service.adminToken(globex));
    const browser = new Browser(service.app);
    const page = await browser.request('GET', link.url);
    const taken = await browser.request('POST', formAction(page.body), setupForm(page.body, oktaFields()));
    expect(taken.statusCode, taken.body).toBe(409);
    expect(taken.body).toContain('acme.example');
    expect((await browser.request('GET', link.url)).statusCode).toBe(200);
  });

  it('a new link voids the earlier unused ones; an expired link and an unknown one say so and nothing else', async () => {
    const first = await newLink(acmeAdmin);
    const second = await newLink(acmeAdmin);
    const browser = new Browser(service.app);
    const voided = await browser.request('GET', first.url);
    expect(voided.statusCode).toBe(410);
    expect(voided.body).toContain('does not work any more');
    expect((await browser.request('GET', second.url)).statusCode).toBe(200);
    await service.db
      .updateTable('sso_setup_link')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('voided_at', 'is', null)
      .where('used_at', 'is', null)
      .execute();
    const expired = await browser.request('GET', second.url);
    expect(expired.statusCode).toBe(410);
    const unknown = await browser.request('GET', `${PUBLIC_URL}/sso/setup/not-a-link-anyone-was-given`);
    expect(unknown.statusCode).toBe(404);
    for (const body of [expired.body, unknown.body]) {
      expect(body).not.toContain('Acme Supply');
      expect(body).not.toContain('signin/sso/saml');
    }
  });

  it('a form posted without the page\u2019s CSRF token is refused', async () => {
    const link = await newLink(acmeAdmin);
    const refused = await new Browser(service.app).request('POST', link.url, {
      ...oktaFields(),
      protocol: 'oidc',
      csrf: 'forged',
    });
    expect(refused.statusCode).toBe(403);
    expect((await new Browser(service.app).request('GET', link.url)).statusCode).toBe(200);
  });
});
