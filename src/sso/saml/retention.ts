// The purge of expired SAML rows: requests never answered, and assertion ids past the assertion's validity.
import type { FastifyBaseLogger } from 'fastify';
import { type RawBuilder, sql } from 'kysely';
import type { Db } from '../../db/database.js';
import { type Purge, type PurgeSchedule, startStatementPurge } from '../../kernel/purge.js';

/** As often as the sign-in records are purged: a SAML request lives as long as a sign-in interaction. */
export const SAML_PURGE_INTERVAL_MS = 10 * 60 * 1000;
export const SAML_PURGE_BATCH_SIZE = 1000;

/** Each table's expired rows, at most `limit` per statement (the oldest first, by each table's expiry index). */
function purges(limit: number): RawBuilder<unknown>[] {
  const now = new Date();
  return [
    sql`delete from saml_request where id in (
      select id from saml_request where expires_at < ${now} order by expires_at limit ${limit})`,
    sql`delete from saml_assertion where (connection_id, assertion_id) in (
      select connection_id, assertion_id from saml_assertion where expires_at < ${now} order by expires_at limit ${limit})`,
  ];
}

/** Deletes expired SAML requests and used assertion ids off the request path, in bounded batches (kernel/purge.ts). */
export function startSamlRetention(
  db: Db,
  schedule: PurgeSchedule,
  log: Pick<FastifyBaseLogger, 'info' | 'error'>,
): Purge {
  return startStatementPurge(db, {
    what: 'expired SAML requests and assertion ids',
    statements: purges,
    ...schedule,
    log,
  });
}
