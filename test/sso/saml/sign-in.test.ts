import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, openDatabase } from '../../../src/db/database.js';
import {
  finishSamlSignIn,
  parseIdpMetadata,
  type SamlIdp,
  type SamlRefusal,
  SamlResponseError,
  type SamlServiceProvider,
  serviceProviderMetadata,
  startSamlSignIn,
} from '../../../src/sso/saml/index.js';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../../support/databases.js';
import {
  assertionOf,
  editResponse,
  entraClaims,
  IDP_KEYS,
  type ResponseFields,
  type Signing,
  setText,
  testIdp,
} from './support.js';

const TENANT = '8f1c3c4e-1f7a-4a4e-9c55-0d1f3b0b7a11';
const PUBLIC_URL = 'https://reps.example.com';
const MINUTE_MS = 60_000;

const entra = testIdp({
  entityId: `https://sts.windows.net/${TENANT}/`,
  ssoUrl: `https://login.microsoftonline.com/${TENANT}/saml2`,
  keys: IDP_KEYS.entra,
});
const otherIdp = testIdp({
  entityId: 'https://idp.other-supplier.example/saml',
  ssoUrl: 'https://idp.other-supplier.example/sso',
  keys: IDP_KEYS.other,
});
type TestIdp = typeof entra;

/** The service provider values of a connection, as the sign-in routes give them. */
function serviceProvider(connectionId: string): SamlServiceProvider {
  return {
    entityId: `${PUBLIC_URL}/signin/sso/saml/${connectionId}/metadata`,
    acsUrl: `${PUBLIC_URL}/signin/sso/saml/${connectionId}/acs`,
  };
}

describe.each(databaseKinds)('SAML sign-in against an IdP playing Entra ID, on %s', (kind) => {
  let database: TestDatabase;
  let db: Db;
  beforeAll(async () => {
    database = await openTestDatabase(kind);
    db = database.db;
  }, 120_000);
  afterAll(async () => {
    await database?.close();
  });

  /**
   * An organization's connection to an IdP: the IdP as read from its metadata, and the IdP's view of the service
   * provider, read from the SP metadata (which makes it sign the assertion, Entra ID's default) or told what to sign.
   */
  function connect(idp: TestIdp = entra, signing?: Signing) {
    const connectionId = `sso_${randomUUID()}`;
    const sp = serviceProvider(connectionId);
    return {
      connectionId,
      sp,
      testIdp: idp,
      idp: parseIdpMetadata(idp.metadata()),
      samlifySp: signing
        ? idp.serviceProvider({ ...sp, signing })
        : idp.serviceProvider({ metadata: serviceProviderMetadata(sp) }),
    };
  }
  type Connection = ReturnType<typeof connect>;

  /** Starts a sign-in and lets the IdP read the AuthnRequest from the redirect. */
  async function start(connection: Connection) {
    const started = await startSamlSignIn(db, {
      connectionId: connection.connectionId,
      sp: connection.sp,
      idp: connection.idp,
      relayState: 'relay-1',
    });
    const request = await connection.testIdp.readRequest(connection.samlifySp, started.redirectUrl);
    return { ...started, request };
  }

  /** The IdP's response for the connection, answering `fields` (the request and a user by default). */
  function respond(connection: Connection, fields: ResponseFields, idp: TestIdp = connection.testIdp) {
    return idp.respond(connection.samlifySp, fields);
  }

  const finish = (
    connection: { connectionId: string; sp: SamlServiceProvider; idp: SamlIdp },
    samlResponse: string,
  ) =>
    finishSamlSignIn(db, {
      connectionId: connection.connectionId,
      sp: connection.sp,
      idp: connection.idp,
      samlResponse,
    });

  /** Why a finish was refused ('accepted' when it was not); any other error fails the test. */
  const refusal = (finishing: Promise<unknown>): Promise<SamlRefusal | 'accepted'> =>
    finishing.then(
      () => 'accepted',
      (error: unknown) => {
        if (error instanceof SamlResponseError) return error.reason;
        throw error;
      },
    );

  const user = { nameId: 'megan.bowen@contoso.example' };
  const claims = entraClaims({ email: 'Megan.Bowen@contoso.example', givenName: 'Megan', surname: 'Bowen' });

  it('a round trip: the IdP reads the request and its signed answer gives the NameID, the email and the attributes', async () => {
    const connection = connect();
    const started = await start(connection);
    const redirect = new URL(started.redirectUrl);
    expect(`${redirect.origin}${redirect.pathname}`).toBe(connection.idp.ssoUrl);
    expect(redirect.searchParams.get('RelayState')).toBe('relay-1');
    expect(started.request.extract.request.id).toBe(started.requestId);
    expect(started.request.extract.request.assertionConsumerServiceUrl).toBe(connection.sp.acsUrl);
    expect(started.request.extract.issuer).toBe(connection.sp.entityId);

    const assertionId = `_${randomUUID()}`;
    const signedIn = await finish(
      connection,
      await respond(connection, {
        inResponseTo: started.request.extract.request.id,
        ...user,
        attributes: claims,
        assertionId,
      }),
    );
    expect(signedIn).toEqual({
      nameId: user.nameId,
      email: 'Megan.Bowen@contoso.example',
      attributes: claims,
      assertionId,
      requestId: started.requestId,
    });
  });

  it("a sign-on URL with its own query (Google Workspace's idpid) keeps it beside the request", async () => {
    const google = testIdp({
      entityId: 'https://accounts.google.com/o/saml2?idpid=C01abcdef',
      ssoUrl: 'https://accounts.google.com/o/saml2/idp?idpid=C01abcdef',
      keys: IDP_KEYS.other,
    });
    const connection = connect(google);
    const started = await start(connection);
    const redirect = new URL(started.redirectUrl);
    expect(redirect.searchParams.get('idpid')).toBe('C01abcdef');
    expect(started.request.extract.request.id).toBe(started.requestId);
    const signedIn = await finish(
      connection,
      await respond(connection, { inResponseTo: started.requestId, ...user }),
    );
    expect(signedIn.email).toBe(user.nameId);
  });

  it('a response signed as a whole is taken with its assertion unsigned inside, and so is one signed twice', async () => {
    for (const signing of ['response', 'both'] as const) {
      const connection = connect(entra, signing);
      const started = await start(connection);
      const signedIn = await finish(
        connection,
        await respond(connection, { inResponseTo: started.requestId, ...user, attributes: claims }),
      );
      expect(signedIn.nameId).toBe(user.nameId);
    }
  });

  it('without an email attribute, an emailAddress NameID is the email; a persistent NameID gives none', async () => {
    const connection = connect();
    const byNameId = await finish(
      connection,
      await respond(connection, { inResponseTo: (await start(connection)).requestId, ...user }),
    );
    expect(byNameId.email).toBe(user.nameId);
    const persistent = await finish(
      connection,
      await respond(connection, {
        inResponseTo: (await start(connection)).requestId,
        nameId: 'AAAAAAAAAAAAAAAAAAAAAN0ZSBvZiBwZXJzaXN0ZW50',
        nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
      }),
    );
    expect(persistent).toMatchObject({
      nameId: 'AAAAAAAAAAAAAAAAAAAAAN0ZSBvZiBwZXJzaXN0ZW50',
      email: undefined,
    });
  });

  it('an unsigned response is refused', async () => {
    const connection = connect();
    const started = await start(connection);
    const unsigned = await connection.testIdp.unsigned(connection.samlifySp, {
      inResponseTo: started.requestId,
      ...user,
    });
    expect(await refusal(finish(connection, unsigned))).toBe('invalid_signature');
  });

  it('an assertion changed after the IdP signed it is refused', async () => {
    const connection = connect();
    const started = await start(connection);
    const signed = await respond(connection, { inResponseTo: started.requestId, ...user });
    const changed = editResponse(signed, (response) =>
      setText(assertionOf(response), 'NameID', 'ceo@contoso.example'),
    );
    expect(await refusal(finish(connection, changed))).toBe('invalid_signature');
  });

  it('signature wrapping: a signed assertion and an unsigned forged one in one response are refused', async () => {
    const connection = connect();
    const started = await start(connection);
    const signed = await respond(connection, { inResponseTo: started.requestId, ...user });
    const wrapped = editResponse(signed, (response) => {
      const genuine = assertionOf(response);
      const forged = genuine.cloneNode(true) as typeof genuine;
      forged.setAttribute('ID', `_${randomUUID()}`);
      setText(forged, 'NameID', 'ceo@contoso.example');
      for (const signature of Array.from(
        forged.getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'Signature'),
      )) {
        forged.removeChild(signature);
      }
      response.insertBefore(forged, genuine);
    });
    expect(await refusal(finish(connection, wrapped))).toBe('multiple_assertions');
  });

  it('signature wrapping: an unsigned forged assertion with the signed one hidden inside it is refused', async () => {
    const connection = connect();
    const started = await start(connection);
    const signed = await respond(connection, { inResponseTo: started.requestId, ...user });
    const wrapped = editResponse(signed, (response) => {
      const genuine = assertionOf(response);
      const forged = genuine.cloneNode(true) as typeof genuine;
      forged.setAttribute('ID', `_${randomUUID()}`);
      setText(forged, 'NameID', 'ceo@contoso.example');
      for (const signature of Array.from(
        forged.getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'Signature'),
      )) {
        forged.removeChild(signature);
      }
      response.replaceChild(forged, genuine);
      forged.appendChild(genuine);
    });
    expect(await refusal(finish(connection, wrapped))).toBe('invalid_signature');
  });

  it("an assertion signed with another organization's IdP key is refused, even when it names this IdP", async () => {
    const connection = connect(otherIdp);
    const started = await start(connection);
    const forged = await respond(
      connection,
      { inResponseTo: started.requestId, ...user, issuer: connection.idp.entityId },
      entra,
    );
    expect(await refusal(finish(connection, forged))).toBe('invalid_signature');
  });

  it("an assertion issued by another entity than the connection's IdP is refused", async () => {
    const connection = connect();
    const started = await start(connection);
    const response = await respond(connection, {
      inResponseTo: started.requestId,
      ...user,
      issuer: 'https://sts.windows.net/another-tenant/',
    });
    expect(await refusal(finish(connection, response))).toBe('wrong_issuer');
  });

  it('an assertion for another service provider (wrong audience) is refused', async () => {
    const connection = connect();
    const started = await start(connection);
    const response = await respond(connection, {
      inResponseTo: started.requestId,
      ...user,
      audience: serviceProvider('sso_another').entityId,
    });
    expect(await refusal(finish(connection, response))).toBe('wrong_audience');
  });

  it("a response whose Recipient or Destination is not the connection's ACS URL is refused", async () => {
    const connection = connect();
    const elsewhere = serviceProvider('sso_another').acsUrl;
    const byRecipient = await respond(connection, {
      inResponseTo: (await start(connection)).requestId,
      ...user,
      recipient: elsewhere,
    });
    expect(await refusal(finish(connection, byRecipient))).toBe('wrong_recipient');
    const byDestination = await respond(connection, {
      inResponseTo: (await start(connection)).requestId,
      ...user,
      destination: elsewhere,
    });
    expect(await refusal(finish(connection, byDestination))).toBe('wrong_recipient');
  });

  it('an unsolicited response (IdP-initiated, no InResponseTo) is refused', async () => {
    const connection = connect();
    const response = await respond(connection, { inResponseTo: null, ...user });
    expect(await refusal(finish(connection, response))).toBe('unsolicited');
  });

  it('a response to a request this service never sent is refused', async () => {
    const connection = connect();
    const response = await respond(connection, {
      inResponseTo: `_${randomUUID().replace(/-/g, '')}`,
      ...user,
    });
    expect(await refusal(finish(connection, response))).toBe('unknown_request');
  });

  it("a response to another connection's request is refused, though the same IdP signed it", async () => {
    const first = connect();
    const second = connect();
    const startedAtFirst = await start(first);
    const response = await respond(second, { inResponseTo: startedAtFirst.requestId, ...user });
    expect(await refusal(finish(second, response))).toBe('unknown_request');
  });

  it('a signed assertion answering another request than its response names is refused', async () => {
    const connection = connect();
    const started = await start(connection);
    const other = await start(connection);
    const response = await respond(connection, {
      inResponseTo: started.requestId,
      subjectInResponseTo: other.requestId,
      ...user,
    });
    expect(await refusal(finish(connection, response))).toBe('unknown_request');
  });

  it('a response to an expired request is refused', async () => {
    const connection = connect();
    const started = await start(connection);
    await sql`update saml_request set expires_at = now() - interval '1 second' where id = ${started.requestId}`.execute(
      db,
    );
    const response = await respond(connection, { inResponseTo: started.requestId, ...user });
    expect(await refusal(finish(connection, response))).toBe('unknown_request');
  });

  it('a response is taken once: replayed later, or given to two replicas at once, only one sign-in passes', async () => {
    const connection = connect();
    const started = await start(connection);
    const response = await respond(connection, { inResponseTo: started.requestId, ...user });
    expect((await finish(connection, response)).nameId).toBe(user.nameId);
    expect(await refusal(finish(connection, response))).toBe('unknown_request');

    const raced = await start(connection);
    const racedResponse = await respond(connection, { inResponseTo: raced.requestId, ...user });
    const outcomes = await Promise.all([
      refusal(finish(connection, racedResponse)),
      refusal(finish(connection, racedResponse)),
    ]);
    expect(outcomes.sort()).toEqual(['accepted', 'unknown_request']);
  });

  it('an assertion id the IdP already signed someone in with is refused in answer to a new request', async () => {
    const connection = connect();
    const assertionId = `_${randomUUID()}`;
    const first = await respond(connection, {
      inResponseTo: (await start(connection)).requestId,
      ...user,
      assertionId,
    });
    await finish(connection, first);
    const again = await respond(connection, {
      inResponseTo: (await start(connection)).requestId,
      ...user,
      assertionId,
    });
    expect(await refusal(finish(connection, again))).toBe('replayed');
  });

  it('an expired assertion is refused, and one not yet valid beyond the allowed clock skew', async () => {
    const connection = connect();
    const expired = await respond(connection, {
      inResponseTo: (await start(connection)).requestId,
      ...user,
      issuedAt: new Date(Date.now() - 70 * MINUTE_MS),
      lifetimeMs: 60 * MINUTE_MS,
    });
    expect(await refusal(finish(connection, expired))).toBe('outside_time_window');
    const early = await respond(connection, {
      inResponseTo: (await start(connection)).requestId,
      ...user,
      issuedAt: new Date(Date.now() + 10 * MINUTE_MS),
    });
    expect(await refusal(finish(connection, early))).toBe('outside_time_window');
  });

  it('an IdP clock a minute off either way is allowed for (the clock skew)', async () => {
    const connection = connect();
    const ahead = await respond(connection, {
      inResponseTo: (await start(connection)).requestId,
      ...user,
      issuedAt: new Date(Date.now() + MINUTE_MS),
    });
    expect(await refusal(finish(connection, ahead))).toBe('accepted');
    const behind = await respond(connection, {
      inResponseTo: (await start(connection)).requestId,
      ...user,
      issuedAt: new Date(Date.now() - 6 * MINUTE_MS),
      lifetimeMs: 5 * MINUTE_MS,
    });
    expect(await refusal(finish(connection, behind))).toBe('accepted');
  });

  it('an IdP error status (the person cancelled, or is not assigned to the application) is refused', async () => {
    const connection = connect();
    const started = await start(connection);
    const signed = await respond(connection, { inResponseTo: started.requestId, ...user });
    const denied = editResponse(signed, (response) => {
      response.removeChild(assertionOf(response));
      const status = response.getElementsByTagNameNS('urn:oasis:names:tc:SAML:2.0:protocol', 'StatusCode')[0];
      status?.setAttribute('Value', 'urn:oasis:names:tc:SAML:2.0:status:Requester');
    });
    expect(await refusal(finish(connection, denied))).toBe('idp_error');
  });

  it('an assertion that names nobody (an empty NameID) is refused', async () => {
    const connection = connect();
    const started = await start(connection);
    const response = await respond(connection, { inResponseTo: started.requestId, nameId: '' });
    expect(await refusal(finish(connection, response))).toBe('no_subject');
  });

  it('a relay state over the 80 bytes SAML allows is refused when the sign-in starts', async () => {
    const connection = connect();
    await expect(
      startSamlSignIn(db, {
        connectionId: connection.connectionId,
        sp: connection.sp,
        idp: connection.idp,
        relayState: 'x'.repeat(81),
      }),
    ).rejects.toThrow(RangeError);
  });

  it('a database that cannot be reached while a response is checked is an outage, not a refusal', async () => {
    const connection = connect();
    const response = await respond(connection, {
      inResponseTo: (await start(connection)).requestId,
      ...user,
    });
    // Nothing listens on port 1: every statement fails to connect.
    const unreachable = await openDatabase({
      databaseUrl: 'postgres://postgres@127.0.0.1:1/salesreps',
      connectTimeoutMs: 1000,
    });
    try {
      const outcome = await finishSamlSignIn(unreachable.db, { ...connection, samlResponse: response }).then(
        () => 'accepted',
        (error: unknown) => error,
      );
      expect(outcome).toBeInstanceOf(Error);
      expect(outcome).not.toBeInstanceOf(SamlResponseError);
    } finally {
      await unreachable.close();
    }
  });

  it('what is not a SAML response is refused as malformed', async () => {
    const connection = connect();
    for (const garbage of [
      'not base64 at all',
      Buffer.from('<html><body>hi</body></html>').toString('base64'),
    ]) {
      expect(await refusal(finish(connection, garbage))).toBe('malformed');
    }
  });
});
