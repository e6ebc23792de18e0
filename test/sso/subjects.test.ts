import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { REDIRECT_URI, relyingParty, type SigninService, startSigninService } from '../signin/support.js';
import { databaseKinds } from '../support/databases.js';
import { addedRep, oidcSignIn, SSO_URL, samlSignIn } from './journeys.js';
import { IDP_KEYS, testIdp } from './saml/support.js';
import { startTestIdp, type TestIdp } from './support.js';

const ENTRA_SSO = 'https://login.microsoftonline.com/8f1c3c4e-1f7a-4a4e-9c55-0d1f3b0b7a11/saml2';
const entra = testIdp({
  entityId: 'https://sts.windows.net/8f1c3c4e-1f7a-4a4e-9c55-0d1f3b0b7a11/',
  ssoUrl: ENTRA_SSO,
  keys: IDP_KEYS.entra,
});
const OTHER_SSO = 'https://idp.other.example/saml2';
const otherSaml = testIdp({
  entityId: 'https://idp.other.example/',
  ssoUrl: OTHER_SSO,
  keys: IDP_KEYS.other,
});

describe.each(databaseKinds)('remembered IdP subjects when the connection changes on %s', (kind) => {
  let service: SigninService;
  let okta: TestIdp;
  let secondOkta: TestIdp;
  let acme: Organization;
  let admin: string;
  let rp: Awaited<ReturnType<typeof relyingParty>>;

  const signedIn = (back: { leftTo?: string | undefined; statusCode: number; body: string }) =>
    expect(back.leftTo?.startsWith(`${REDIRECT_URI}?code=`), back.body.slice(0, 300)).toBe(true);
  const refusedAsSubjectMismatch = (back: { statusCode: number; body: string }) => {
    expect(back.statusCode, back.body.slice(0, 300)).toBe(403);
    expect(back.body).toContain('has not given you access');
  };
  const put = async (body: Record<string, unknown>) => {
    const response = await service.call('PUT', SSO_URL, admin, { domains: ['acme.example'], ...body });
    expect(response.statusCode, response.body).toBe(200);
  };
  const oidcBody = (idp: TestIdp) => ({
    protocol: 'oidc',
    issuer: idp.issuer,
    clientId: idp.clientId,
    clientSecret: idp.clientSecret,
  });

  beforeAll(async () => {
    okta = await startTestIdp();
    secondOkta = await startTestIdp();
    service = await startSigninService(kind, { SSO_ALLOW_PRIVATE_NETWORKS: 'true' });
    acme = await service.createOrganization('Acme Supply');
    admin = await service.adminToken(acme);
    rp = await relyingParty(service.app);
    await addedRep(service, admin, acme, 'wile@acme.example');
    await put(oidcBody(okta));
    // Wile signs in once: its subject at this IdP is remembered for the connection.
    okta.people.set('okta-wile', { email: 'wile@acme.example', emailVerified: true });
    signedIn((await oidcSignIn(service, rp, okta, acme, 'okta-wile')).back);
  });
  afterAll(async () => {
    await service?.close();
    await okta?.close();
    await secondOkta?.close();
  });

  it('while the IdP stays the same (another PUT of the same issuer), another subject with the remembered email is refused', async () => {
    await put({ ...oidcBody(okta), domains: ['acme.example', 'acme-corp.example'] });
    okta.people.set('okta-other-wile', { email: 'wile@acme.example', emailVerified: true });
    refusedAsSubjectMismatch((await oidcSignIn(service, rp, okta, acme, 'okta-other-wile')).back);
    signedIn((await oidcSignIn(service, rp, okta, acme, 'okta-wile')).back);
  });

  it('another issuer forgets the remembered subjects: the new IdP\u2019s subject is matched by the verified email', async () => {
    await put(oidcBody(secondOkta));
    secondOkta.people.set('second-wile', { email: 'wile@acme.example', emailVerified: true });
    signedIn((await oidcSignIn(service, rp, secondOkta, acme, 'second-wile')).back);
    // And that subject is the one remembered now.
    secondOkta.people.set('second-impostor', { email: 'wile@acme.example', emailVerified: true });
    refusedAsSubjectMismatch((await oidcSignIn(service, rp, secondOkta, acme, 'second-impostor')).back);
  });

  it('the other protocol (OpenID Connect to SAML) forgets them too', async () => {
    await put({ protocol: 'saml', metadataXml: entra.metadata() });
    const person = { nameId: 'entra-wile', email: 'wile@acme.example' };
    signedIn((await samlSignIn(service, rp, entra, ENTRA_SSO, admin, acme, person)).back);
    const impostor = { nameId: 'entra-impostor', email: 'wile@acme.example' };
    refusedAsSubjectMismatch((await samlSignIn(service, rp, entra, ENTRA_SSO, admin, acme, impostor)).back);
  });

  it('another SAML IdP entity ID forgets them', async () => {
    await put({ protocol: 'saml', metadataXml: otherSaml.metadata() });
    const person = { nameId: 'other-wile', email: 'wile@acme.example' };
    signedIn((await samlSignIn(service, rp, otherSaml, OTHER_SSO, admin, acme, person)).back);
  });
});
