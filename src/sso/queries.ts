// The enterprise connections' SQL: connections, their domains, remembered subjects, and the people they match.
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Executor } from '../db/database.js';

export function findConnectionOfOrganization(db: Executor, organizationId: string) {
  return db
    .selectFrom('sso_connection')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .executeTakeFirst();
}

export function findConnection(db: Executor, connectionId: string) {
  return db.selectFrom('sso_connection').selectAll().where('id', '=', connectionId).executeTakeFirst();
}

export async function domainsOf(db: Executor, connectionId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('sso_domain')
    .select('domain')
    .where('connection_id', '=', connectionId)
    .orderBy('domain')
    .execute();
  return rows.map((row) => row.domain);
}

/** The domains of `domains` that another organization's connection serves. */
export async function domainsTakenElsewhere(
  db: Executor,
  domains: string[],
  organizationId: string,
): Promise<string[]> {
  if (domains.length === 0) return [];
  const rows = await db
    .selectFrom('sso_domain as d')
    .innerJoin('sso_connection as c', 'c.id', 'd.connection_id')
    .select('d.domain')
    .where('d.domain', 'in', domains)
    .where('c.organization_id', '<>', organizationId)
    .orderBy('d.domain')
    .execute();
  return rows.map((row) => row.domain);
}

/** The connection of the organization with this identity organization id (its `org_code`), with the organization. */
export function connectionOfIdentityOrganization(db: Executor, identityOrganizationId: string) {
  return db
    .selectFrom('sso_connection as c')
    .innerJoin('organization as o', 'o.id', 'c.organization_id')
    .select(['c.id', 'c.protocol', 'c.password_sign_in', 'o.identity_organization_id'])
    .where('o.identity_organization_id', '=', identityOrganizationId)
    .executeTakeFirst();
}

/** The connection that serves an email domain, with its organization. */
export function connectionOfDomain(db: Executor, domain: string) {
  return db
    .selectFrom('sso_domain as d')
    .innerJoin('sso_connection as c', 'c.id', 'd.connection_id')
    .innerJoin('organization as o', 'o.id', 'c.organization_id')
    .select(['c.id', 'c.protocol', 'c.password_sign_in', 'o.identity_organization_id'])
    .where('d.domain', '=', domain.toLowerCase())
    .executeTakeFirst();
}

/** The organizations among these (identity organization ids) whose people sign in only through their IdP. */
export async function organizationsWithoutPasswords(db: Executor, identityOrganizationIds: string[]) {
  if (identityOrganizationIds.length === 0) return new Set<string>();
  const rows = await db
    .selectFrom('sso_connection as c')
    .innerJoin('organization as o', 'o.id', 'c.organization_id')
    .select('o.identity_organization_id')
    .where('o.identity_organization_id', 'in', identityOrganizationIds)
    .where('c.password_sign_in', '=', false)
    .execute();
  return new Set(rows.map((row) => row.identity_organization_id));
}

/**
 * Accounts the organization knows: a membership at the local identity provider, or an assignment as a rep (active
 * or not). A person the organization never added is no one to it, whatever its IdP says.
 */
function knownBy(organizationId: string) {
  return sql<boolean>`(
    exists (select 1 from idp_membership m join organization o on o.identity_organization_id = m.identity_organization_id
            where m.account_id = a.id and o.id = ${organizationId})
    or exists (select 1 from organization_sales_rep s join sales_rep r on r.id = s.sales_rep_id
               where s.organization_id = ${organizationId} and r.identity_provider_user_id = a.id))`;
}

/** The account the connection remembers for this IdP subject, while the organization still knows it. */
export async function accountOfSubject(
  db: Executor,
  connectionId: string,
  organizationId: string,
  subject: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('sso_subject as s')
    .innerJoin('idp_account as a', 'a.id', 's.account_id')
    .select('a.id')
    .where('s.connection_id', '=', connectionId)
    .where('s.subject', '=', subject)
    .where(knownBy(organizationId))
    .executeTakeFirst();
  return row?.id;
}

/** The account of this email that the organization knows (the newest, as the password sign-in finds it). */
export async function knownAccountByEmail(
  db: Executor,
  organizationId: string,
  email: string,
): Promise<{ id: string; remembered: boolean } | undefined> {
  const row = await db
    .selectFrom('idp_account as a')
    .select('a.id')
    .select(({ exists, selectFrom }) =>
      exists(
        selectFrom('sso_subject as s')
          .innerJoin('sso_connection as c', 'c.id', 's.connection_id')
          .select('s.subject')
          .whereRef('s.account_id', '=', 'a.id')
          .where('c.organization_id', '=', organizationId),
      ).as('remembered'),
    )
    .where(sql<string>`lower(a.email)`, '=', email.toLowerCase())
    .where(knownBy(organizationId))
    .orderBy('a.created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row && { id: row.id, remembered: Boolean(row.remembered) };
}

export async function rememberSubject(
  db: Executor,
  link: { connectionId: string; subject: string; accountId: string },
): Promise<void> {
  await db
    .insertInto('sso_subject')
    .values({ connection_id: link.connectionId, subject: link.subject, account_id: link.accountId })
    .onConflict((conflict) => conflict.doNothing())
    .execute();
}

export async function identityOrganizationOf(db: Executor, organizationId: string): Promise<string> {
  const row = await db
    .selectFrom('organization')
    .select('identity_organization_id')
    .where('id', '=', organizationId)
    .executeTakeFirstOrThrow();
  return row.identity_organization_id;
}

const relayStateHash = (relayState: string) => createHash('sha256').update(relayState).digest('base64url');

/**
 * A SAML sign-in under way, kept as an OpenID Connect one is (`sso_sign_in`): by its RelayState's hash, for its
 * interaction, with the AuthnRequest's id as the nonce the answer must carry (SAML has no PKCE verifier: empty).
 */
export async function insertSamlSignIn(
  db: Executor,
  input: {
    relayState: string;
    connectionId: string;
    interactionUid: string;
    requestId: string;
    expiresAt: Date;
  },
): Promise<void> {
  await db
    .insertInto('sso_sign_in')
    .values({
      state_hash: relayStateHash(input.relayState),
      connection_id: input.connectionId,
      interaction_uid: input.interactionUid,
      code_verifier: '',
      nonce: input.requestId,
      expires_at: input.expiresAt,
    })
    .execute();
}

/** The SAML sign-in of this connection under way with this RelayState: its interaction and AuthnRequest id. */
async function findSamlSignIn(
  db: Executor,
  connectionId: string,
  relayState: string,
): Promise<{ interactionUid: string; requestId: string } | undefined> {
  const row = await db
    .selectFrom('sso_sign_in')
    .select(['interaction_uid', 'nonce'])
    .where('state_hash', '=', relayStateHash(relayState))
    .where('connection_id', '=', connectionId)
    .where('expires_at', '>', new Date())
    .executeTakeFirst();
  return row && { interactionUid: row.interaction_uid, requestId: row.nonce };
}

/**
 * Uses a SAML sign-in (`sso_sign_in`) or test sign-in (`sso_test_sign_in`) up: true for the one caller that took
 * it, so an answer replayed or raced is refused.
 */
async function consumeRelayState(
  db: Executor,
  table: 'sso_sign_in' | 'sso_test_sign_in',
  connectionId: string,
  relayState: string,
): Promise<boolean> {
  const result = await db
    .deleteFrom(table)
    .where('state_hash', '=', relayStateHash(relayState))
    .where('connection_id', '=', connectionId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}

/** Uses the SAML sign-in up: true for the one caller that took it. */
const consumeSamlSignIn = (db: Executor, connectionId: string, relayState: string) =>
  consumeRelayState(db, 'sso_sign_in', connectionId, relayState);

/**
 * What the organization knows of an account, for a test sign-in's answer: the account's name and email, its rep
 * assignment (active or not) and its membership's roles.
 */
export async function personInOrganization(db: Executor, organizationId: string, accountId: string) {
  const account = await db
    .selectFrom('idp_account')
    .select(['email', 'first_name', 'last_name'])
    .where('id', '=', accountId)
    .executeTakeFirst();
  const rep = await db
    .selectFrom('organization_sales_rep as s')
    .innerJoin('sales_rep as r', 'r.id', 's.sales_rep_id')
    .select(['s.id', 's.first_name', 's.last_name', 's.email', 's.active'])
    .where('s.organization_id', '=', organizationId)
    .where('r.identity_provider_user_id', '=', accountId)
    .executeTakeFirst();
  const membership = await db
    .selectFrom('idp_membership as m')
    .innerJoin('organization as o', 'o.identity_organization_id', 'm.identity_organization_id')
    .select('m.roles')
    .where('o.id', '=', organizationId)
    .where('m.account_id', '=', accountId)
    .executeTakeFirst();
  return { account, rep, roles: membership?.roles };
}

/** Keeps a test sign-in under way: by its state's (OIDC) or RelayState's (SAML) hash. */
export async function insertTestSignIn(
  db: Executor,
  input: { state: string; connectionId: string; codeVerifier: string; nonce: string; expiresAt: Date },
): Promise<void> {
  await db
    .insertInto('sso_test_sign_in')
    .values({
      state_hash: relayStateHash(input.state),
      connection_id: input.connectionId,
      code_verifier: input.codeVerifier,
      nonce: input.nonce,
      expires_at: input.expiresAt,
    })
    .execute();
}

/** The SAML test sign-in of this connection under way with this RelayState: its AuthnRequest id. */
async function findSamlTest(
  db: Executor,
  connectionId: string,
  relayState: string,
): Promise<{ requestId: string } | undefined> {
  const row = await db
    .selectFrom('sso_test_sign_in')
    .select('nonce')
    .where('state_hash', '=', relayStateHash(relayState))
    .where('connection_id', '=', connectionId)
    .where('expires_at', '>', new Date())
    .executeTakeFirst();
  return row && { requestId: row.nonce };
}

/** Uses a SAML test sign-in up: true for the one caller that took it. */
const consumeSamlTest = (db: Executor, connectionId: string, relayState: string) =>
  consumeRelayState(db, 'sso_test_sign_in', connectionId, relayState);

/** SAML requests pending under a RelayState: found, then used up once (answerPendingSamlRequest). */
export interface PendingSamlRequests<Pending extends { requestId: string }> {
  find(db: Executor, connectionId: string, relayState: string): Promise<Pending | undefined>;
  consume(db: Executor, connectionId: string, relayState: string): Promise<boolean>;
}

export const samlSignIns: PendingSamlRequests<{ interactionUid: string; requestId: string }> = {
  find: findSamlSignIn,
  consume: consumeSamlSignIn,
};

export const samlTests: PendingSamlRequests<{ requestId: string }> = {
  find: findSamlTest,
  consume: consumeSamlTest,
};
