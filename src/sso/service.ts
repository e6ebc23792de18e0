// The enterprise connections' use-cases: set, show and remove an organization's connection; match a person.
import type { Selectable } from 'kysely';
import { ROLE_ADMIN } from '../auth/roles.js';
import type { Db, Executor, Trx } from '../db/database.js';
import type { Organization, SsoConnectionTable } from '../db/schema.js';
import { type ChangeContext, recordEvents } from '../events/record.js';
import { newId } from '../kernel/ids.js';
import { badRequest, conflict, notFound } from '../kernel/problem.js';
import { lockOrganization } from '../organizations/lock.js';
import { checkIssuer, DiscoveryError, type IdpIdentity, type OidcClient } from './oidc.js';
import {
  accountOfSubject,
  domainsOf,
  domainsTakenElsewhere,
  findConnection,
  findConnectionOfOrganization,
  identityOrganizationOf,
  knownAccountByEmail,
  type PendingSamlRequests,
  personInOrganization,
  rememberSubject,
} from './queries.js';
import {
  fetchIdpMetadata,
  finishSamlSignIn,
  parseIdpMetadata,
  type SamlIdp,
  SamlMetadataError,
  SamlResponseError,
  type SamlServiceProvider,
} from './saml/index.js';
import { refreshAfterUnknownKey } from './saml/refresh.js';
import type {
  PutConnectionBody,
  PutOidcConnectionBody,
  PutSamlConnectionBody,
  SsoConnection,
} from './schemas.js';
import type { SecretBox } from './secret-box.js';

/** What the connections' use-cases need besides the database. */
export interface SsoSettings {
  publicUrl: string;
  /** Whether the service runs its own sign-in (IDP=local, no AUTH_JWKS_URL); else connections are that IdP's. */
  embedded: boolean;
  /** SSO_ALLOW_PRIVATE_NETWORKS. */
  allowPrivateNetworks: boolean;
  secrets: SecretBox;
}

/** Where every IdP sends its OpenID Connect answers: one redirect URI for every organization. */
export function ssoCallbackUrl(publicUrl: string): string {
  return `${publicUrl}/signin/sso/callback`;
}

/** The service provider a SAML connection is to its IdP: per-connection addresses, the entity ID its metadata's. */
export function samlServiceProvider(publicUrl: string, connectionId: string): SamlServiceProvider {
  const base = `${publicUrl}/signin/sso/saml/${encodeURIComponent(connectionId)}`;
  return { entityId: `${base}/metadata`, acsUrl: `${base}/acs` };
}

type ConnectionRow = Selectable<SsoConnectionTable>;

/** A session signed in through an organization's IdP says so, and for which organization, in its `acr`. */
const SSO_ACR_PREFIX = 'urn:salesreps:sso:';

export function ssoSessionAcr(identityOrganizationId: string): string {
  return `${SSO_ACR_PREFIX}${identityOrganizationId}`;
}

/** The organization whose IdP signed a session in (its `acr`), or undefined for a password session. */
export function organizationOfSessionAcr(acr: string | undefined): string | undefined {
  return acr?.startsWith(SSO_ACR_PREFIX) ? acr.slice(SSO_ACR_PREFIX.length) : undefined;
}

const UNIQUE_VIOLATION = '23505';

export function managedElsewhere() {
  return conflict(
    'sso-managed-externally',
    'Sign-in happens at the external identity provider (AUTH_JWKS_URL): set up enterprise connections there (for Kinde: its organization\u2019s enterprise connections).',
  );
}

function domainsTaken(domains: string[]) {
  return conflict(
    'sso-domain-taken',
    `Another organization's connection serves ${domains.map((domain) => `"${domain}"`).join(', ')}.`,
  );
}

export function noConnection() {
  return notFound('This organization has no single sign-on connection.');
}

function toView(row: ConnectionRow, domains: string[], publicUrl: string): SsoConnection {
  const sp = samlServiceProvider(publicUrl, row.id);
  return {
    protocol: row.protocol,
    ...(row.protocol === 'oidc'
      ? { issuer: row.issuer ?? '', clientId: row.client_id ?? '' }
      : { idpEntityId: row.saml_idp?.entityId ?? '' }),
    domains,
    passwordSignIn: row.password_sign_in,
    redirectUri: ssoCallbackUrl(publicUrl),
    spEntityId: sp.entityId,
    acsUrl: sp.acsUrl,
    spMetadataUrl: sp.entityId,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

/** What an event says of a connection: never its secret. */
function described(row: ConnectionRow | undefined, domains: string[]) {
  if (!row) return null;
  return {
    protocol: row.protocol,
    issuer: row.issuer ?? row.saml_idp?.entityId ?? null,
    clientId: row.client_id,
    domains,
    passwordSignIn: row.password_sign_in,
  };
}

type Described = NonNullable<ReturnType<typeof described>>;

/** The audit log's changes from one description to another; a side that is absent reads as null in every field. */
function changesOf(from: Described | null, to: Described | null) {
  const fields = Object.keys(to ?? from ?? {}) as (keyof Described)[];
  return Object.fromEntries(
    fields.map((field) => [field, { from: from ? from[field] : null, to: to ? to[field] : null }]),
  );
}

/** The columns of a connection that say which IdP it is and how to reach it. */
type IdpValues = Pick<
  ConnectionRow,
  | 'protocol'
  | 'issuer'
  | 'client_id'
  | 'client_secret_encrypted'
  | 'saml_metadata_url'
  | 'saml_metadata_fetched_at'
> & { saml_idp: string | null };

/** How a connection is saved other than by an Admin's PUT: through a setup link (setup-links.ts). */
export interface PutConnectionOptions {
  /** The id a new connection gets (the one whose SAML addresses a setup link showed); else a new one. */
  newConnectionId?: string;
  /** Runs in the change's transaction before the connection is written; throwing there changes nothing. */
  within?: (trx: Trx) => Promise<void>;
}

/** Whether the remembered subjects of a connection still name the same people: the same protocol and IdP. */
function sameIdp(before: ConnectionRow, after: ConnectionRow): boolean {
  if (before.protocol !== after.protocol) return false;
  return before.protocol === 'oidc'
    ? before.issuer === after.issuer
    : before.saml_idp?.entityId === after.saml_idp?.entityId;
}

/**
 * PUT /api/organizations/sso (and `salesreps sso set`): checks the IdP (OpenID Connect: its discovery; SAML: its
 * metadata, fetched when given by URL), then replaces the organization's connection in one transaction with its
 * event. The connection keeps its id (so the SAML addresses given to an IdP stay), and the remembered IdP subjects
 * stay only while the IdP is the same.
 */
export async function putConnection(
  db: Db,
  settings: SsoSettings,
  organization: Organization,
  body: PutConnectionBody,
  change: ChangeContext,
  options: PutConnectionOptions = {},
): Promise<SsoConnection> {
  if (!settings.embedded) throw managedElsewhere();
  const domains = [...new Set(body.domains.map((domain) => domain.toLowerCase()))].sort();
  const taken = await domainsTakenElsewhere(db, domains, organization.id);
  if (taken.length > 0) throw domainsTaken(taken);
  const existing = await findConnectionOfOrganization(db, organization.id);
  const connectionId = existing?.id ?? options.newConnectionId ?? newId();
  const values =
    body.protocol === 'oidc'
      ? await oidcValues(settings, connectionId, body)
      : await samlValues(settings, body);
  return storeConnection(db, settings, organization, change, {
    connectionId,
    domains,
    values: { ...values, password_sign_in: body.passwordSignIn ?? false },
    within: options.within,
  });
}

async function oidcValues(
  settings: SsoSettings,
  connectionId: string,
  body: PutOidcConnectionBody,
): Promise<IdpValues> {
  try {
    await checkIssuer(
      {
        connectionId,
        issuer: body.issuer,
        clientId: body.clientId,
        clientSecret: body.clientSecret,
        version: 'check',
      },
      settings.allowPrivateNetworks,
    );
  } catch (error) {
    if (!(error instanceof DiscoveryError)) throw error;
    throw badRequest('The request body is not valid: issuer.', [{ field: 'issuer', message: error.message }]);
  }
  return {
    protocol: 'oidc',
    issuer: body.issuer,
    client_id: body.clientId,
    client_secret_encrypted: settings.secrets.seal(body.clientSecret, connectionId),
    saml_idp: null,
    saml_metadata_url: null,
    saml_metadata_fetched_at: null,
  };
}

async function samlValues(settings: SsoSettings, body: PutSamlConnectionBody): Promise<IdpValues> {
  const field = 'metadataUrl' in body ? 'metadataUrl' : 'metadataXml';
  let idp: SamlIdp;
  try {
    const xml =
      'metadataUrl' in body
        ? await fetchIdpMetadata(body.metadataUrl, { allowPrivateNetworks: settings.allowPrivateNetworks })
        : body.metadataXml;
    idp = parseIdpMetadata(xml);
  } catch (error) {
    if (!(error instanceof SamlMetadataError)) throw error;
    throw badRequest(`The request body is not valid: ${field}.`, [{ field, message: error.message }]);
  }
  return {
    protocol: 'saml',
    issuer: null,
    client_id: null,
    client_secret_encrypted: null,
    saml_idp: JSON.stringify(idp),
    // Kept so that the IdP's certificates are read again from there (saml/refresh.ts).
    saml_metadata_url: 'metadataUrl' in body ? body.metadataUrl : null,
    saml_metadata_fetched_at: 'metadataUrl' in body ? new Date() : null,
  };
}

async function storeConnection(
  db: Db,
  settings: SsoSettings,
  organization: Organization,
  change: ChangeContext,
  input: {
    connectionId: string;
    domains: string[];
    values: IdpValues & { password_sign_in: boolean };
    within: PutConnectionOptions['within'];
  },
): Promise<SsoConnection> {
  const { connectionId, domains, values } = input;
  try {
    return await db.transaction().execute(async (trx) => {
      // One change of the organization's connection at a time.
      await lockOrganization(trx, organization.id);
      await input.within?.(trx);
      const before = await findConnectionOfOrganization(trx, organization.id);
      const domainsBefore = before ? await domainsOf(trx, before.id) : [];
      const row = before
        ? await trx
            .updateTable('sso_connection')
            .set({ ...values, saml_metadata_failure_refresh_at: null, updated_at: new Date() })
            .where('id', '=', before.id)
            .returningAll()
            .executeTakeFirstOrThrow()
        : await trx
            .insertInto('sso_connection')
            .values({ id: connectionId, organization_id: organization.id, ...values })
            .returningAll()
            .executeTakeFirstOrThrow();
      if (before && !sameIdp(before, row)) {
        // Another IdP's subjects name other people.
        await trx.deleteFrom('sso_subject').where('connection_id', '=', row.id).execute();
      }
      await trx.deleteFrom('sso_domain').where('connection_id', '=', row.id).execute();
      if (domains.length > 0) {
        await trx
          .insertInto('sso_domain')
          .values(domains.map((domain) => ({ domain, connection_id: row.id })))
          .execute();
      }
      await recordEvents(trx, change, organization.id, [
        {
          action: 'sso.connection_updated',
          targets: [{ type: 'sso_connection', id: row.id }],
          changes: changesOf(described(before, domainsBefore), described(row, domains)),
        },
      ]);
      return toView(row, domains, settings.publicUrl);
    });
  } catch (error) {
    if ((error as { code?: unknown }).code === UNIQUE_VIOLATION) throw domainsTaken(domains);
    throw error;
  }
}

/** GET /api/organizations/sso: the connection as an admin sees it (never the secret); 404 when there is none. */
export async function showConnection(
  db: Executor,
  settings: Pick<SsoSettings, 'publicUrl' | 'embedded'>,
  organization: Organization,
): Promise<SsoConnection> {
  if (!settings.embedded) throw managedElsewhere();
  const row = await findConnectionOfOrganization(db, organization.id);
  if (!row) throw noConnection();
  return toView(row, await domainsOf(db, row.id), settings.publicUrl);
}

/** DELETE /api/organizations/sso: the connection, its domains and remembered subjects go; 404 when there is none. */
export async function removeConnection(
  db: Db,
  settings: Pick<SsoSettings, 'embedded'>,
  organization: Organization,
  change: ChangeContext,
): Promise<void> {
  if (!settings.embedded) throw managedElsewhere();
  await db.transaction().execute(async (trx) => {
    const row = await findConnectionOfOrganization(trx, organization.id);
    if (!row) throw noConnection();
    const domains = await domainsOf(trx, row.id);
    await trx.deleteFrom('sso_connection').where('id', '=', row.id).execute();
    await recordEvents(trx, change, organization.id, [
      {
        action: 'sso.connection_removed',
        targets: [{ type: 'sso_connection', id: row.id }],
        changes: changesOf(described(row, domains), null),
      },
    ]);
  });
}

/** An OIDC connection with its secret opened, for the relying party; undefined when gone or not OIDC. */
export async function oidcClientOf(
  db: Executor,
  settings: Pick<SsoSettings, 'secrets'>,
  connectionId: string,
): Promise<OidcClient | undefined> {
  const row = await findConnection(db, connectionId);
  if (row?.protocol !== 'oidc' || !row.issuer || !row.client_id || !row.client_secret_encrypted)
    return undefined;
  return {
    connectionId: row.id,
    issuer: row.issuer,
    clientId: row.client_id,
    clientSecret: settings.secrets.open(row.client_secret_encrypted, row.id),
    version: new Date(row.updated_at).toISOString(),
  };
}

/** A SAML connection's IdP, as parsed from its metadata; undefined when gone or not SAML. */
export async function samlIdpOf(db: Executor, connectionId: string): Promise<SamlIdp | undefined> {
  const row = await findConnection(db, connectionId);
  return row?.protocol === 'saml' && row.saml_idp ? row.saml_idp : undefined;
}

/**
 * Checks a SAML response POSTed to a connection's ACS (finishSamlSignIn). A signature the connection's certificates
 * refuse, by a key not yet seen, makes a connection set by metadata URL read its metadata again (at most once per
 * bound, saml/refresh.ts) and check the response once more with the certificates read. Undefined when the connection
 * is gone or not SAML; throws SamlResponseError when refused.
 */
export async function checkSamlAnswer(
  db: Db,
  settings: Pick<SsoSettings, 'publicUrl' | 'allowPrivateNetworks'>,
  input: { connectionId: string; samlResponse: string },
  log: Parameters<typeof refreshAfterUnknownKey>[3]['log'],
): Promise<Awaited<ReturnType<typeof finishSamlSignIn>> | undefined> {
  const { connectionId, samlResponse } = input;
  const idp = await samlIdpOf(db, connectionId);
  if (!idp) return undefined;
  const sp = samlServiceProvider(settings.publicUrl, connectionId);
  try {
    return await finishSamlSignIn(db, { connectionId, sp, idp, samlResponse });
  } catch (error) {
    if (!(error instanceof SamlResponseError) || error.reason !== 'invalid_signature') throw error;
    const refreshed = await refreshAfterUnknownKey(db, { id: connectionId, idp }, samlResponse, {
      allowPrivateNetworks: settings.allowPrivateNetworks,
      log,
    });
    if (!refreshed) throw error;
    return finishSamlSignIn(db, { connectionId, sp, idp: refreshed, samlResponse });
  }
}

/** How a SAML response to a request pending under its RelayState ended; each caller words each way for its page. */
export type PendingSamlAnswer<Pending> =
  | { kind: 'answered'; pending: Pending; answer: Awaited<ReturnType<typeof finishSamlSignIn>> }
  /** No request of the connection is pending under the RelayState (none given, too long, expired or unknown). */
  | { kind: 'not-pending' }
  /** The response was refused (`saml:<reason>`), or answers another request (`saml:unknown_request`). */
  | { kind: 'refused'; reason: string }
  /** The connection is gone, or no longer SAML. */
  | { kind: 'connection-gone' }
  /** Another caller used the pending request up first: a replay, or a race. */
  | { kind: 'used' };

/**
 * A SAML response for a request pending under its RelayState (a sign-in's or a test's): the request found, the
 * response checked (checkSamlAnswer) and bound to that request's own AuthnRequest, then the request used up, so
 * that one response completes one request, once.
 */
export async function answerPendingSamlRequest<Pending extends { requestId: string }>(
  db: Db,
  settings: Parameters<typeof checkSamlAnswer>[1],
  input: {
    connectionId: string;
    form: { samlResponse: string; relayState: string };
    pending: PendingSamlRequests<Pending>;
  },
  log: Parameters<typeof checkSamlAnswer>[3],
): Promise<PendingSamlAnswer<Pending>> {
  const { connectionId, form } = input;
  if (!form.relayState || Buffer.byteLength(form.relayState) > 80) return { kind: 'not-pending' };
  const pending = await input.pending.find(db, connectionId, form.relayState);
  if (!pending) return { kind: 'not-pending' };
  let answer: Awaited<ReturnType<typeof checkSamlAnswer>>;
  try {
    answer = await checkSamlAnswer(db, settings, { connectionId, samlResponse: form.samlResponse }, log);
  } catch (error) {
    if (error instanceof SamlResponseError) return { kind: 'refused', reason: `saml:${error.reason}` };
    throw error;
  }
  if (!answer) return { kind: 'connection-gone' };
  // A response to another request, brought with this one's RelayState, completes nothing here.
  if (answer.requestId !== pending.requestId) return { kind: 'refused', reason: 'saml:unknown_request' };
  if (!(await input.pending.consume(db, connectionId, form.relayState))) return { kind: 'used' };
  return { kind: 'answered', pending, answer };
}

/** Whom the IdP's answer is, for the organization of its connection. */
export type PersonMatch =
  | { kind: 'person'; accountId: string; organizationId: string; identityOrganizationId: string }
  | { kind: 'stranger'; organizationId: string; reason: 'unknown' | 'email-unverified' | 'subject-mismatch' };

/**
 * Matches the IdP's answer to a person the organization added: by the subject remembered for this connection, else
 * the first time by the verified email (then the subject is remembered). An email of an account already linked to
 * another subject of this organization's IdP is not enough: that is another person of the same address.
 */
export async function matchPerson(db: Db, identity: IdpIdentity): Promise<PersonMatch | undefined> {
  const connection = await findConnection(db, identity.connectionId);
  if (!connection) return undefined;
  const organizationId = connection.organization_id;
  const identityOrganizationId = await identityOrganizationOf(db, organizationId);
  const person = (accountId: string) =>
    ({ kind: 'person', accountId, organizationId, identityOrganizationId }) as const;
  const remembered = await accountOfSubject(db, connection.id, organizationId, identity.subject);
  if (remembered) return person(remembered);
  if (!identity.email) return { kind: 'stranger', organizationId, reason: 'unknown' };
  if (!identity.emailVerified) return { kind: 'stranger', organizationId, reason: 'email-unverified' };
  const account = await knownAccountByEmail(db, organizationId, identity.email);
  if (!account) return { kind: 'stranger', organizationId, reason: 'unknown' };
  if (account.remembered) return { kind: 'stranger', organizationId, reason: 'subject-mismatch' };
  await rememberSubject(db, {
    connectionId: connection.id,
    subject: identity.subject,
    accountId: account.id,
  });
  return person(account.id);
}

/** Whom a test sign-in's answer would sign in, and whether it would be let in (nothing is remembered). */
export type MatchPreview =
  | {
      kind: 'person';
      /** How it was found: the subject remembered for the connection, or (the first time) the verified email. */
      by: 'subject' | 'email';
      name: string;
      email: string;
      /** The rep's assignment id, when the person is a rep of the organization. */
      organizationSalesRepId: string | undefined;
      /** Why the person would still be refused ("No access"), or undefined when it would be signed in. */
      refusal: 'deactivated' | 'removed' | undefined;
    }
  | { kind: 'stranger'; reason: 'unknown' | 'email-unverified' | 'subject-mismatch' };

/**
 * matchPerson's answer without its effect (no subject remembered), and then whether the person would be let in: an
 * active rep, or an admin member who is no rep (as the sign-in grants). Undefined when the connection is gone.
 */
export async function previewMatch(db: Executor, identity: IdpIdentity): Promise<MatchPreview | undefined> {
  const connection = await findConnection(db, identity.connectionId);
  if (!connection) return undefined;
  const organizationId = connection.organization_id;
  let accountId = await accountOfSubject(db, connection.id, organizationId, identity.subject);
  const by = accountId ? 'subject' : 'email';
  if (!accountId) {
    if (!identity.email) return { kind: 'stranger', reason: 'unknown' };
    if (!identity.emailVerified) return { kind: 'stranger', reason: 'email-unverified' };
    const account = await knownAccountByEmail(db, organizationId, identity.email);
    if (!account) return { kind: 'stranger', reason: 'unknown' };
    if (account.remembered) return { kind: 'stranger', reason: 'subject-mismatch' };
    accountId = account.id;
  }
  const { account, rep, roles } = await personInOrganization(db, organizationId, accountId);
  const admitted = rep ? rep.active && roles !== undefined : (roles ?? []).includes(ROLE_ADMIN);
  return {
    kind: 'person',
    by,
    name: rep
      ? `${rep.first_name} ${rep.last_name}`.trim()
      : `${account?.first_name ?? ''} ${account?.last_name ?? ''}`.trim(),
    email: rep?.email ?? account?.email ?? '',
    organizationSalesRepId: rep?.id,
    refusal: admitted ? undefined : rep && !rep.active ? 'deactivated' : 'removed',
  };
}

/**
 * A sign-in through the organization's IdP of a person it never added (or whose email the IdP did not verify):
 * recorded in that organization, whose own IdP vouched for the attempt. The actor is the IdP's subject.
 */
export async function recordStranger(
  db: Db,
  stranger: {
    organizationId: string;
    connectionId: string;
    subject: string;
    reason: string;
    requestId: string;
  },
): Promise<void> {
  const actor = `sso:${stranger.subject}`.slice(0, 300);
  await db.transaction().execute(async (trx) => {
    await recordEvents(
      trx,
      { actor: { type: 'user', id: actor }, requestId: stranger.requestId },
      stranger.organizationId,
      [
        {
          action: 'sign_in.refused',
          targets: [{ type: 'sso_connection', id: stranger.connectionId }],
          changes: { method: { from: null, to: 'sso' }, reason: { from: null, to: stranger.reason } },
        },
      ],
    );
  });
}

/**
 * Seals every connection's secret under the first key again (rotation, docs/sso.md): each row in a statement of its
 * own, changed only while it still holds what was read.
 */
export async function resealSecrets(
  db: Db,
  settings: Pick<SsoSettings, 'secrets'>,
): Promise<{ resealed: number; total: number }> {
  const rows = await db
    .selectFrom('sso_connection')
    .select(['id', 'client_secret_encrypted'])
    .where('client_secret_encrypted', 'is not', null)
    .execute();
  let resealed = 0;
  for (const row of rows) {
    const sealed = row.client_secret_encrypted as string;
    if (settings.secrets.sealedByCurrentKey(sealed)) continue;
    const plaintext = settings.secrets.open(sealed, row.id);
    const result = await db
      .updateTable('sso_connection')
      .set({ client_secret_encrypted: settings.secrets.seal(plaintext, row.id) })
      .where('id', '=', row.id)
      .where('client_secret_encrypted', '=', sealed)
      .executeTakeFirst();
    resealed += Number(result.numUpdatedRows);
  }
  return { resealed, total: rows.length };
}
