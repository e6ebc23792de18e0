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
