// The SAML sign-ins' typed SQL: the requests sent and not yet answered, the assertion ids already used.
import type { Db } from '../../db/database.js';

/** Remembers a request sent to a connection's IdP until `expiresAt`. */
export async function insertSamlRequest(
  db: Db,
  request: { id: string; connectionId: string; expiresAt: Date },
): Promise<void> {
  await db
    .insertInto('saml_request')
    .values({ id: request.id, connection_id: request.connectionId, expires_at: request.expiresAt })
    .execute();
}

/** When a connection's request was sent, while it is unanswered and unexpired; undefined otherwise. */
export async function findPendingSamlRequest(
  db: Db,
  connectionId: string,
  id: string,
  now: Date,
): Promise<Date | undefined> {
  const row = await db
    .selectFrom('saml_request')
    .select('created_at')
    .where('id', '=', id)
    .where('connection_id', '=', connectionId)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return row?.created_at;
}

/**
 * Marks a connection's pending request answered by deleting it; true only for the one caller whose delete found
 * it, so two replicas given the same response cannot both take it.
 */
export async function consumeSamlRequest(
  db: Db,
  connectionId: string,
  id: string,
  now: Date,
): Promise<boolean> {
  const row = await db
    .deleteFrom('saml_request')
    .where('id', '=', id)
    .where('connection_id', '=', connectionId)
    .where('expires_at', '>', now)
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Records an assertion id as used; false when the connection's IdP had already signed someone in with it. */
export async function recordSamlAssertion(
  db: Db,
  assertion: { connectionId: string; assertionId: string; expiresAt: Date },
): Promise<boolean> {
  const row = await db
    .insertInto('saml_assertion')
    .values({
      connection_id: assertion.connectionId,
      assertion_id: assertion.assertionId,
      expires_at: assertion.expiresAt,
    })
    .onConflict((conflict) => conflict.columns(['connection_id', 'assertion_id']).doNothing())
    .returning('assertion_id')
    .executeTakeFirst();
  return row !== undefined;
}

/** A SAML connection set by metadata URL: the URL and the IdP as last read. */
export function connectionMetadata(db: Db, connectionId: string) {
  return db
    .selectFrom('sso_connection')
    .select(['id', 'saml_metadata_url', 'saml_idp'])
    .where('id', '=', connectionId)
    .where('protocol', '=', 'saml')
    .where('saml_metadata_url', 'is not', null)
    .executeTakeFirst();
}

/**
 * Takes the right to refetch a connection's metadata after a signature by an unknown key: true for the one caller
 * that found the last such refetch (any replica's) older than `notSince`.
 */
export async function claimFailureRefresh(db: Db, connectionId: string, notSince: Date): Promise<boolean> {
  const row = await db
    .updateTable('sso_connection')
    .set({ saml_metadata_failure_refresh_at: new Date() })
    .where('id', '=', connectionId)
    .where('saml_metadata_url', 'is not', null)
    .where((eb) =>
      eb.or([
        eb('saml_metadata_failure_refresh_at', 'is', null),
        eb('saml_metadata_failure_refresh_at', '<', notSince),
      ]),
    )
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** The connections whose metadata was last fetched before `before`, each claimed (its fetch time set) by one caller. */
export async function claimDueRefreshes(db: Db, before: Date, limit: number): Promise<string[]> {
  const due = await db
    .selectFrom('sso_connection')
    .select(['id', 'saml_metadata_fetched_at'])
    .where('saml_metadata_url', 'is not', null)
    .where((eb) =>
      eb.or([eb('saml_metadata_fetched_at', 'is', null), eb('saml_metadata_fetched_at', '<', before)]),
    )
    .orderBy('saml_metadata_fetched_at')
    .limit(limit)
    .execute();
  const claimed: string[] = [];
  for (const row of due) {
    const taken = await db
      .updateTable('sso_connection')
      .set({ saml_metadata_fetched_at: new Date() })
      .where('id', '=', row.id)
      .where((eb) =>
        row.saml_metadata_fetched_at === null
          ? eb('saml_metadata_fetched_at', 'is', null)
          : eb('saml_metadata_fetched_at', '=', row.saml_metadata_fetched_at),
      )
      .returning('id')
      .executeTakeFirst();
    if (taken) claimed.push(taken.id);
  }
  return claimed;
}

/** Keeps the IdP as read again from the metadata URL, unless the connection was set anew meanwhile. */
export async function storeRefreshedIdp(
  db: Db,
  connection: { id: string; metadataUrl: string; idpJson: string },
): Promise<boolean> {
  const result = await db
    .updateTable('sso_connection')
    .set({ saml_idp: connection.idpJson, saml_metadata_fetched_at: new Date() })
    .where('id', '=', connection.id)
    .where('saml_metadata_url', '=', connection.metadataUrl)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
