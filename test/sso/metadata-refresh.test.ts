import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { refreshDueMetadata } from '../../src/sso/saml/refresh.js';
import { REDIRECT_URI, relyingParty, type SigninService, startSigninService } from '../signin/support.js';
import { databaseKinds } from '../support/databases.js';
import { addedRep, SSO_URL, samlSignIn } from './journeys.js';
import { IDP_KEYS, testIdp } from './saml/support.js';

const TENANT = '8f1c3c4e-1f7a-4a4e-9c55-0d1f3b0b7a11';
const ENTITY_ID = `https://sts.windows.net/${TENANT}/`;
const ENTRA_SSO = `https://login.microsoftonline.com/${TENANT}/saml2`;
/** The tenant before and after it rolls its signing certificate over: the same entity, another key. */
const beforeRollover = testIdp({ entityId: ENTITY_ID, ssoUrl: ENTRA_SSO, keys: IDP_KEYS.entra });
const afterRollover = testIdp({ entityId: ENTITY_ID, ssoUrl: ENTRA_SSO, keys: IDP_KEYS.other });
const silentLog = { info: () => {}, warn: () => {}, error: () => {} };

describe.each(databaseKinds)('a SAML connection\u2019s metadata read again from its URL on %s', (kind) => {
  let service: SigninService;
  let acme: Organization;
  let admin: string;
  let rp: Awaited<ReturnType<typeof relyingParty>>;
  let metadataServer: http.Server;
  let metadataUrl: string;
  /** What the metadata URL publishes now, and how many times it was read. */
  let published = beforeRollover;
  let reads = 0;
  const wile = { nameId: 'entra-wile', email: 'wile@acme.example' };

  const signInSignedBy = (idp: typeof beforeRollover) =>
    samlSignIn(service, rp, idp, ENTRA_SSO, admin, acme, wile).then(({ back }) => back);
  const signedIn = (back: { leftTo?: string | undefined; body: string }) =>
    expect(back.leftTo?.startsWith(`${REDIRECT_URI}?code=`), back.body.slice(0, 300)).toBe(true);

  beforeAll(async () => {
    metadataServer = http.createServer((_request, response) => {
      reads += 1;
      response.writeHead(200, { 'content-type': 'application/samlmetadata+xml' }).end(published.metadata());
    });
    await new Promise<void>((resolve) => metadataServer.listen(0, '127.0.0.1', resolve));
    metadataUrl = `http://127.0.0.1:${(metadataServer.address() as AddressInfo).port}/federationmetadata.xml`;
    service = await startSigninService(kind, { SSO_ALLOW_PRIVATE_NETWORKS: 'true' });
    acme = await service.createOrganization('Acme Supply');
    admin = await service.adminToken(acme);
    rp = await relyingParty(service.app);
    await addedRep(service, admin, acme, wile.email);
    const connect = await service.call('PUT', SSO_URL, admin, {
      protocol: 'saml',
      metadataUrl,
      domains: ['acme.example'],
    });
    expect(connect.statusCode, connect.body).toBe(200);
  });
  afterAll(async () => {
    await service?.close();
    await new Promise((resolve) => metadataServer?.close(resolve));
  });

  it('the IdP rolls its certificate over at the metadata URL: the next sign-in, signed by the new key, still works', async () => {
    signedIn(await signInSignedBy(beforeRollover));
    const readsBefore = reads;
    published = afterRollover;
    signedIn(await signInSignedBy(afterRollover));
    // Read once, when the signature named a key not yet seen.
    expect(reads).toBe(readsBefore + 1);
  });

  it('refetching after an unknown key is bounded: within the bound a response by a key not in the metadata is refused unread', async () => {
    const readsBefore = reads;
    const refused = await signInSignedBy(beforeRollover);
    expect(refused.leftTo).toBeUndefined();
    expect(refused.statusCode).toBe(401);
    expect(reads).toBe(readsBefore);
    // The key that signs now still works, without a read.
    signedIn(await signInSignedBy(afterRollover));
    expect(reads).toBe(readsBefore);
  });

  it('periodically, metadata older than its age is read again (the periodic pass)', async () => {
    published = beforeRollover;
    // Not yet due: nothing is read.
    expect(await refreshDueMetadata(service.db, { allowPrivateNetworks: true, log: silentLog })).toBe(0);
    const later = new Date(Date.now() + 7 * 3600_000);
    const readsBefore = reads;
    expect(
      await refreshDueMetadata(service.db, { allowPrivateNetworks: true, log: silentLog, now: later }),
    ).toBe(1);
    expect(reads).toBe(readsBefore + 1);
    // The certificate read is used at once (the failure bound has not passed, so no refetch was needed).
    signedIn(await signInSignedBy(beforeRollover));
    expect(reads).toBe(readsBefore + 1);
  });

  it('a connection set by metadata XML is never fetched', async () => {
    const globex = await service.createOrganization('Globex Supply');
    const globexAdmin = await service.adminToken(globex);
    const other = testIdp({
      entityId: 'https://idp.globex.example/',
      ssoUrl: 'https://idp.globex.example/sso',
      keys: IDP_KEYS.other,
    });
    const connect = await service.call('PUT', SSO_URL, globexAdmin, {
      protocol: 'saml',
      metadataXml: other.metadata(),
      domains: ['globex.example'],
    });
    expect(connect.statusCode).toBe(200);
    const readsBefore = reads;
    const later = new Date(Date.now() + 30 * 3600_000);
    await refreshDueMetadata(service.db, { allowPrivateNetworks: true, log: silentLog, now: later });
    // Only Acme's, set by URL, was read.
    expect(reads).toBe(readsBefore + 1);
  });
});
