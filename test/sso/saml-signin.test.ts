import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { eventually } from '../effects/support/wait.js';
import {
  formAction,
  hiddenField,
  PUBLIC_URL,
  REDIRECT_URI,
  relyingParty,
  type SigninService,
  startSigninService,
} from '../signin/support.js';
import { databaseKinds } from '../support/databases.js';
import { addRep, MY_ORGANIZATIONS_URL, REPS_URL } from '../support/fixtures.js';
import { entraClaims, IDP_KEYS, testIdp } from './saml/support.js';
import { TwoSiteBrowser } from './support.js';

const SSO_URL = '/api/organizations/sso';
const TENANT = '8f1c3c4e-1f7a-4a4e-9c55-0d1f3b0b7a11';
const ENTRA_SSO = `https://login.microsoftonline.com/${TENANT}/saml2`;
const PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';

/** Acme's Microsoft Entra ID tenant, played by samlify with its own keys. */
const entra = testIdp({
  entityId: `https://sts.windows.net/${TENANT}/`,
  ssoUrl: ENTRA_SSO,
  keys: IDP_KEYS.entra,
});

type SamlifySp = ReturnType<typeof entra.serviceProvider>;

describe.each(databaseKinds)('signing in through the organization\u2019s SAML IdP on %s', (kind) => {
  let service: SigninService;
  let acme: Organization;
  let globex: Organization;
  let acmeAdmin: string;
  let globexAdmin: string;
  let rp: Awaited<ReturnType<typeof relyingParty>>;
  /** Each organization's connection as its IdP knows it, read from the SP metadata the service publishes. */
  const sps = new Map<string, SamlifySp>();
  let metadataServer: http.Server;
  let metadataUrl: string;

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

  /** The connection the Admin set, read back, and the IdP's view of it from the service's SP metadata. */
  const connectionOf = async (admin: string) => {
    const shown = await service.call('GET', SSO_URL, admin);
    expect(shown.statusCode, shown.body).toBe(200);
    const connection = shown.json() as { acsUrl: string; spMetadataUrl: string; spEntityId: string };
    let sp = sps.get(connection.spEntityId);
    if (!sp) {
      const metadata = await service.app.inject({
        method: 'GET',
        url: connection.spMetadataUrl.slice(PUBLIC_URL.length),
      });
      expect(metadata.statusCode, metadata.body).toBe(200);
      sp = entra.serviceProvider({ metadata: metadata.body });
      sps.set(connection.spEntityId, sp);
    }
    return { ...connection, sp };
  };

  /** An authorization request for the organization, followed to Entra ID: the AuthnRequest it reads. */
  const toEntra = async (browser: TwoSiteBrowser, admin: string, extra: Record<string, string>) => {
    const connection = await connectionOf(admin);
    const flow = await rp.start(extra);
    const atIdp = await browser.follow('GET', flow.url);
    expect(atIdp.leftTo?.startsWith(`${ENTRA_SSO}?`), atIdp.body.slice(0, 300)).toBe(true);
    const request = await entra.readRequest(connection.sp, atIdp.leftTo as string);
    const relayState = new URL(atIdp.leftTo as string).searchParams.get('RelayState') ?? '';
    return { connection, flow, requestId: request.extract.request.id as string, relayState };
  };

  /** A whole sign-in at Acme's Entra ID: the IdP signs `person` in and the browser posts its answer to the ACS. */
  const signInAtEntra = async (
    person: { nameId: string; email: string },
    browser = new TwoSiteBrowser(service.app),
  ) => {
    const started = await toEntra(browser, acmeAdmin, { org_code: acme.identity_organization_id });
    const samlResponse = await entra.respond(started.connection.sp, {
      inResponseTo: started.requestId,
      nameId: person.nameId,
      nameIdFormat: PERSISTENT,
      attributes: entraClaims({ email: person.email, givenName: 'Test', surname: 'Person' }),
    });
    const back = await browser.follow('POST', started.connection.acsUrl, {
      SAMLResponse: samlResponse,
      RelayState: started.relayState,
    });
    return { ...started, browser, samlResponse, back };
  };

  beforeAll(async () => {
    service = await startSigninService(kind, { SSO_ALLOW_PRIVATE_NETWORKS: 'true' });
    acme = await service.createOrganization('Acme Supply');
    globex = await service.createOrganization('Globex Supply');
    acmeAdmin = await service.adminToken(acme);
    globexAdmin = await service.adminToken(globex);
    rp = await relyingParty(service.app);
    metadataServer = http.createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/samlmetadata+xml' }).end(entra.metadata());
    });
    await new Promise<void>((resolve) => metadataServer.listen(0, '127.0.0.1', resolve));
    metadataUrl = `http://127.0.0.1:${(metadataServer.address() as AddressInfo).port}/federationmetadata.xml`;
    const connect = await service.call('PUT', SSO_URL, acmeAdmin, {
      protocol: 'saml',
      metadataXml: entra.metadata(),
      domains: ['acme.example'],
    });
    expect(connect.statusCode, connect.body).toBe(200);
  });
  afterAll(async () => {
    await service?.close();
    await new Promise((resolve) => metadataServer?.close(resolve));
  });

  it('an Admin connects by metadata XML: GET shows the IdP entity ID and the SP values, served as SP metadata', async () => {
    const shown = await service.call('GET', SSO_URL, acmeAdmin);
    expect(shown.statusCode, shown.body).toBe(200);
    const connection = shown.json();
    const base = `${PUBLIC_URL}/signin/sso/saml/`;
    expect(connection).toMatchObject({
      protocol: 'saml',
      idpEntityId: `https://sts.windows.net/${TENANT}/`,
      domains: ['acme.example'],
      passwordSignIn: false,
    });
    expect(connection.spEntityId).toMatch(new RegExp(`^${base}[^/]+/metadata$`));
    expect(connection.acsUrl).toBe(connection.spEntityId.replace(/metadata$/, 'acs'));
    expect(connection.spMetadataUrl).toBe(connection.spEntityId);
    expect(connection).not.toHaveProperty('issuer');
    const metadata = await service.app.inject({
      method: 'GET',
      url: connection.spMetadataUrl.slice(PUBLIC_URL.length),
    });
    expect(metadata.headers['content-type']).toContain('application/samlmetadata+xml');
    expect(metadata.body).toContain(`entityID="${connection.spEntityId}"`);
    expect(metadata.body).toContain(`Location="${connection.acsUrl}"`);
    expect(await eventsOf(acmeAdmin, 'sso.connection_updated')).toContainEqual(
      expect.objectContaining({
        changes: expect.objectContaining({
          protocol: { from: null, to: 'saml' },
          issuer: { from: null, to: `https://sts.windows.net/${TENANT}/` },
        }),
      }),
    );
  });

  it('metadata that is not an IdP\u2019s, or a metadata URL that cannot be read, is a 400 naming the field', async () => {
    const invalid = await service.call('PUT', SSO_URL, globexAdmin, {
      protocol: 'saml',
      metadataXml: '<html>not metadata</html>',
      domains: ['globex.example'],
    });
    expect(invalid.statusCode, invalid.body).toBe(400);
    expect(invalid.json().errors).toEqual([expect.objectContaining({ field: 'metadataXml' })]);
    const unreachable = await service.call('PUT', SSO_URL, globexAdmin, {
      protocol: 'saml',
      metadataUrl: 'http://127.0.0.1:9/federationmetadata.xml',
      domains: ['globex.example'],
    });
    expect(unreachable.statusCode, unreachable.body).toBe(400);
    expect(unreachable.json().errors).toEqual([expect.objectContaining({ field: 'metadataUrl' })]);
    expect((await service.call('GET', SSO_URL, globexAdmin)).statusCode).toBe(404);
  });

  it('a rep signs in at the IdP (org_code goes straight there), gets the service\u2019s own token and calls the API', async () => {
    const rep = await addedRep(acmeAdmin, acme, 'wile@acme.example');
    const { flow, back } = await signInAtEntra({ nameId: 'entra-oid-wile', email: 'Wile@Acme.Example' });
    expect(back.leftTo?.startsWith(`${REDIRECT_URI}?code=`), back.body.slice(0, 300)).toBe(true);
    const tokens = await rp.exchange(back.leftTo as string, flow);
    const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1] ?? '', 'base64url').toString());
    expect(claims).toMatchObject({
      iss: PUBLIC_URL,
      sub: rep.identityProviderUserId,
      org_code: acme.identity_organization_id,
      roles: ['SalesRep'],
    });
    const mine = await service.call('GET', MY_ORGANIZATIONS_URL, tokens.access_token);
    expect(mine.statusCode, mine.body).toBe(200);
    expect(mine.json().salesRepOrganizations).toEqual([
      expect.objectContaining({ organizationId: acme.id, salesRepId: rep.salesRepId, active: true }),
    ]);
    expect(await eventsOf(acmeAdmin, 'sign_in.succeeded')).toContainEqual(
      expect.objectContaining({
        actor: { type: 'user', id: rep.identityProviderUserId },
        changes: { method: { from: null, to: 'sso' } },
      }),
    );
    // The SAML response is never logged.
    expect(service.logLines.join('\n')).not.toContain('PHNhbWxwOlJlc3BvbnNl');
  });

  it('the NameID is remembered: the next sign-in finds the person by it, whatever email the IdP says', async () => {
    const rep = await addedRep(acmeAdmin, acme, 'road.runner@acme.example');
    const first = await signInAtEntra({ nameId: 'entra-oid-runner', email: 'road.runner@acme.example' });
    expect(first.back.leftTo?.startsWith(`${REDIRECT_URI}?code=`), first.back.body.slice(0, 300)).toBe(true);
    const { flow, back } = await signInAtEntra({
      nameId: 'entra-oid-runner',
      email: 'beep.beep@acme.example',
    });
    expect(back.leftTo?.startsWith(`${REDIRECT_URI}?code=`), back.body.slice(0, 300)).toBe(true);
    const tokens = await rp.exchange(back.leftTo as string, flow);
    const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1] ?? '', 'base64url').toString());
    expect(claims.sub).toBe(rep.identityProviderUserId);
  });

  it('a response larger than a page form (hundreds of Entra ID group claims) is taken at the ACS', async () => {
    await addedRep(acmeAdmin, acme, 'marvin@acme.example');
    const browser = new TwoSiteBrowser(service.app);
    const started = await toEntra(browser, acmeAdmin, { org_code: acme.identity_organization_id });
    const groups = Array.from(
      { length: 400 },
      (_, index) => `0b6e2f3a-4c5d-4e6f-8a9b-${String(index).padStart(12, '0')}`,
    );
    const samlResponse = await entra.respond(started.connection.sp, {
      inResponseTo: started.requestId,
      nameId: 'entra-oid-marvin',
      attributes: {
        ...entraClaims({ email: 'marvin@acme.example', givenName: 'Marvin', surname: 'Martian' }),
        'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups': groups,
      },
    });
    expect(samlResponse.length).toBeGreaterThan(32 * 1024);
    const back = await browser.follow('POST', started.connection.acsUrl, {
      SAMLResponse: samlResponse,
      RelayState: started.relayState,
    });
    expect(back.leftTo?.startsWith(`${REDIRECT_URI}?code=`), back.body.slice(0, 300)).toBe(true);
  });

  it('on the sign-in page, an email of a domain the SAML connection serves is sent to its IdP', async () => {
    const browser = new TwoSiteBrowser(service.app);
    const flow = await rp.start();
    const page = await browser.follow('GET', flow.url);
    const atIdp = await browser.follow('POST', new URL(formAction(page.body), PUBLIC_URL).href, {
      csrf: hiddenField(page.body, 'csrf'),
      email: 'someone@acme.example',
      password: '',
    });
    expect(atIdp.leftTo?.startsWith(`${ENTRA_SSO}?SAMLRequest=`), atIdp.body.slice(0, 300)).toBe(true);
  });

  it('a person the organization never added gets a page saying so, no code, and a sign_in.refused event', async () => {
    const { back } = await signInAtEntra({ nameId: 'entra-oid-stranger', email: 'stranger@acme.example' });
    expect(back.leftTo).toBeUndefined();
    expect(back.statusCode).toBe(403);
    expect(back.body).toContain('has not given you access');
    expect(back.body).not.toContain('Assertion');
    expect(await eventsOf(acmeAdmin, 'sign_in.refused')).toContainEqual(
      expect.objectContaining({
        actor: { type: 'user', id: 'sso:entra-oid-stranger' },
        changes: { method: { from: null, to: 'sso' }, reason: { from: null, to: 'unknown' } },
      }),
    );
  });

  it('a deactivated rep is refused with a page and a sign_in.refused event (method sso), and no code', async () => {
    const rep = await addedRep(acmeAdmin, acme, 'bugs@acme.example');
    const deactivated = await service.call('POST', `${REPS_URL}/deactivate`, acmeAdmin, {
      organizationSalesRepId: rep.organizationSalesRepId,
    });
    expect(deactivated.statusCode).toBe(200);
    const { back } = await signInAtEntra({ nameId: 'entra-oid-bugs', email: 'bugs@acme.example' });
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

  it('a replayed response is refused, with its own RelayState or with a new sign-in\u2019s, and gives no code', async () => {
    await addedRep(acmeAdmin, acme, 'daffy@acme.example');
    const used = await signInAtEntra({ nameId: 'entra-oid-daffy', email: 'daffy@acme.example' });
    expect(used.back.leftTo?.startsWith(`${REDIRECT_URI}?code=`), used.back.body.slice(0, 300)).toBe(true);
    const again = await used.browser.follow('POST', used.connection.acsUrl, {
      SAMLResponse: used.samlResponse,
      RelayState: used.relayState,
    });
    expect(again.leftTo).toBeUndefined();
    expect(again.statusCode).toBe(400);
    const browser = new TwoSiteBrowser(service.app);
    const fresh = await toEntra(browser, acmeAdmin, { org_code: acme.identity_organization_id });
    const replayed = await browser.follow('POST', fresh.connection.acsUrl, {
      SAMLResponse: used.samlResponse,
      RelayState: fresh.relayState,
    });
    expect(replayed.leftTo).toBeUndefined();
    expect(replayed.statusCode).toBe(401);
    expect(replayed.body).toContain('did not sign you in');
  });

  it('a response for another organization\u2019s connection is refused at this one\u2019s ACS', async () => {
    const connect = await service.call('PUT', SSO_URL, globexAdmin, {
      protocol: 'saml',
      metadataUrl,
      domains: ['globex.example'],
    });
    expect(connect.statusCode, connect.body).toBe(200);
    expect(connect.json().idpEntityId).toBe(`https://sts.windows.net/${TENANT}/`);
    await addedRep(acmeAdmin, acme, 'porky@acme.example');
    const browser = new TwoSiteBrowser(service.app);
    const atAcme = await toEntra(browser, acmeAdmin, { org_code: acme.identity_organization_id });
    const forAcme = await entra.respond(atAcme.connection.sp, {
      inResponseTo: atAcme.requestId,
      nameId: 'entra-oid-porky',
      attributes: entraClaims({ email: 'porky@acme.example', givenName: 'Porky', surname: 'Pig' }),
    });
    const atGlobex = await toEntra(browser, globexAdmin, { org_code: globex.identity_organization_id });
    const refused = await browser.follow('POST', atGlobex.connection.acsUrl, {
      SAMLResponse: forAcme,
      RelayState: atGlobex.relayState,
    });
    expect(refused.leftTo).toBeUndefined();
    expect(refused.statusCode).toBe(401);
    // Nor with Acme's RelayState: that sign-in is Acme's connection's, not Globex's.
    const crossed = await browser.follow('POST', atGlobex.connection.acsUrl, {
      SAMLResponse: forAcme,
      RelayState: atAcme.relayState,
    });
    expect(crossed.leftTo).toBeUndefined();
    expect(crossed.statusCode).toBe(400);
  });

  it('a response carried to another browser completes no sign-in there: the interaction stays its own', async () => {
    await addedRep(acmeAdmin, acme, 'elmer@acme.example');
    const attacker = new TwoSiteBrowser(service.app);
    const started = await toEntra(attacker, acmeAdmin, { org_code: acme.identity_organization_id });
    const samlResponse = await entra.respond(started.connection.sp, {
      inResponseTo: started.requestId,
      nameId: 'entra-oid-elmer',
      attributes: entraClaims({ email: 'elmer@acme.example', givenName: 'Elmer', surname: 'Fudd' }),
    });
    const victim = new TwoSiteBrowser(service.app);
    await victim.follow('GET', (await rp.start({ org_code: acme.identity_organization_id })).url);
    const checked = await victim.request('POST', started.connection.acsUrl, {
      SAMLResponse: samlResponse,
      RelayState: started.relayState,
    });
    // The answer is checked without the interaction's cookies; a page of this site goes on with them.
    expect(checked.statusCode, checked.body.slice(0, 300)).toBe(200);
    const onward = checked.body.match(/http-equiv="refresh" content="0;url=([^"]+)"/)?.[1] as string;
    const onwardUrl = new URL(onward.replaceAll('&amp;', '&'), PUBLIC_URL).href;
    const atVictim = await victim.follow('GET', onwardUrl);
    expect(atVictim.leftTo?.startsWith(`${REDIRECT_URI}?code=`)).not.toBe(true);
    // The browser that started the sign-in goes on from the same address to its code.
    const atAttacker = await attacker.follow('GET', onwardUrl);
    expect(atAttacker.leftTo?.startsWith(`${REDIRECT_URI}?code=`), atAttacker.body.slice(0, 300)).toBe(true);
  });
});
