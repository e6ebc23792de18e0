// What the tests of setup links, test sign-ins, metadata refresh and remembered subjects share: a rep added and
// ready, and whole sign-ins through the organization's OpenID provider or SAML IdP.
import { expect } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { eventually } from '../effects/support/wait.js';
import { PUBLIC_URL, type relyingParty, type SigninService } from '../signin/support.js';
import { addRep } from '../support/fixtures.js';
import type { testIdp } from './saml/support.js';
import { type TestIdp, TwoSiteBrowser } from './support.js';

export const SSO_URL = '/api/organizations/sso';
const PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';

type SamlIdp = ReturnType<typeof testIdp>;
type RelyingParty = Awaited<ReturnType<typeof relyingParty>>;

/** A rep the organization added, once the identity effect has made its account and membership. */
export async function addedRep(
  service: SigninService,
  admin: string,
  organization: Organization,
  email: string,
) {
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
}

/** The events of an action in the admin's organization. */
export async function eventsOf(service: SigninService, admin: string, action: string) {
  return (await service.call('GET', `/api/organizations/events?action=${action}`, admin)).json() as {
    actor: { type: string; id: string };
    targets: { type: string; id: string }[];
    changes: Record<string, { from: unknown; to: unknown }>;
  }[];
}

/** An authorization request for the organization, through its OpenID provider where `subject` signs in. */
export async function oidcSignIn(
  service: SigninService,
  rp: RelyingParty,
  idp: TestIdp,
  organization: Organization,
  subject: string,
) {
  const browser = new TwoSiteBrowser(service.app, idp);
  const flow = await rp.start({ org_code: organization.identity_organization_id });
  const atIdp = await browser.follow('GET', flow.url);
  expect(atIdp.url.startsWith(idp.issuer), atIdp.body.slice(0, 300)).toBe(true);
  const back = await browser.signInAtIdp(atIdp, subject);
  return { flow, back };
}

/** The SAML connection's SP as the IdP reads it from the service's SP metadata. */
export async function samlSpOf(service: SigninService, admin: string, idp: SamlIdp) {
  const shown = await service.call('GET', SSO_URL, admin);
  expect(shown.statusCode, shown.body).toBe(200);
  const connection = shown.json() as { acsUrl: string; spMetadataUrl: string };
  const metadata = await service.app.inject({
    method: 'GET',
    url: connection.spMetadataUrl.slice(PUBLIC_URL.length),
  });
  expect(metadata.statusCode, metadata.body).toBe(200);
  return { acsUrl: connection.acsUrl, sp: idp.serviceProvider({ metadata: metadata.body }) };
}

/** Answers an AuthnRequest (the redirect URL to the IdP) as the SAML IdP does for `person`, posted to the ACS. */
export async function answerAtSamlIdp(
  browser: TwoSiteBrowser,
  idp: SamlIdp,
  at: { acsUrl: string; sp: ReturnType<SamlIdp['serviceProvider']> },
  redirectUrl: string,
  person: { nameId: string; email: string },
) {
  const request = await idp.readRequest(at.sp, redirectUrl);
  const samlResponse = await idp.respond(at.sp, {
    inResponseTo: request.extract.request.id,
    nameId: person.nameId,
    nameIdFormat: PERSISTENT,
    attributes: { email: [person.email], displayName: ['Test Person'] },
  });
  return browser.follow('POST', at.acsUrl, {
    SAMLResponse: samlResponse,
    RelayState: new URL(redirectUrl).searchParams.get('RelayState') ?? '',
  });
}

/** An authorization request for the organization, through its SAML IdP, which signs `person` in. */
export async function samlSignIn(
  service: SigninService,
  rp: RelyingParty,
  idp: SamlIdp,
  ssoUrl: string,
  admin: string,
  organization: Organization,
  person: { nameId: string; email: string },
) {
  const at = await samlSpOf(service, admin, idp);
  const browser = new TwoSiteBrowser(service.app);
  const flow = await rp.start({ org_code: organization.identity_organization_id });
  const atIdp = await browser.follow('GET', flow.url);
  expect(atIdp.leftTo?.startsWith(`${ssoUrl}?`), atIdp.body.slice(0, 300)).toBe(true);
  const back = await answerAtSamlIdp(browser, idp, at, atIdp.leftTo as string, person);
  return { flow, back };
}
