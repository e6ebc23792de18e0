// The purge of expired sign-in records: provider records, grants, old links, SSO sign-ins and tests, throttle counts.
import type { FastifyBaseLogger } from 'fastify';
import { type RawBuilder, sql } from 'kysely';
import type { Db } from '../db/database.js';
import { type Purge, type PurgeSchedule, startStatementPurge } from '../kernel/purge.js';
import { THROTTLE_WINDOW_MS } from './throttle.js';

export const SIGNIN_PURGE_INTERVAL_MS = 10 * 60 * 1000;
export const SIGNIN_PURGE_BATCH_SIZE = 1000;
/** Used and expired links are kept a day, so that a person opening one late is told it was used or expired. */
const LINK_KEPT_MS = 24 * 3600_000;

/** Each table's expired rows, at most `limit` per statement (the oldest first, by each table's expiry index). */
function purges(limit: number): RawBuilder<unknown>[] {
  const now = new Date();
  return [
    sql`delete from oidc_payload where (model, id) in (
      select model, id from oidc_payload where expires_at < ${now} order by expires_at limit ${limit})`,
    sql`delete from signin_grant where grant_id in (
      select grant_id from signin_grant where expires_at < ${now} order by expires_at limit ${limit})`,
    sql`delete from signin_link where id in (
      select id from signin_link where expires_at < ${new Date(now.getTime() - LINK_KEPT_MS)} order by expires_at limit ${limit})`,
    sql`delete from sso_sign_in where state_hash in (
      select state_hash from sso_sign_in where expires_at < ${now} order by expires_at limit ${limit})`,
    sql`delete from sso_test_sign_in where state_hash in (
      select state_hash from sso_test_sign_in where expires_at < ${now} order by expires_at limit ${limit})`,
    sql`delete from sso_setup_link where id in (
      select id from sso_setup_link where expires_at < ${new Date(now.getTime() - LINK_KEPT_MS)} order by expires_at limit ${limit})`,
    sql`delete from signin_throttle where key in (
      select key from signin_throttle where first_failure_at < ${new Date(now.getTime() - THROTTLE_WINDOW_MS)}
        and blocked_until < ${now} order by first_failure_at limit ${limit})`,
  ];
}

/**
 * Deletes the provider's expired records, expired grants, old links and old throttle counts off the request path,
 * in bounded batches.
 */
export function startSigninRetention(
  db: Db,
  schedule: PurgeSchedule,
  log: Pick<FastifyBaseLogger, 'info' | 'error'>,
): Purge {
  return startStatementPurge(db, { what: 'expired sign-in records', statements: purges, ...schedule, log });
}
