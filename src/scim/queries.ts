// The SCIM unit's SQL: the organization's SCIM tokens, and its reps as the directory reads them.
import { sql } from 'kysely';
import type { Executor } from '../db/database.js';
import type { FilterTerm } from './filter.js';

export function insertScimToken(
  db: Executor,
  row: { id: string; organization_id: string; description: string | null; token_hash: string },
) {
  return db
    .insertInto('scim_token')
    .values(row)
    .returning(['id', 'description', 'created_at'])
    .executeTakeFirstOrThrow();
}

export function listScimTokens(db: Executor, organizationId: string, limit: number) {
  return db
    .selectFrom('scim_token')
    .select([
      'id',
      'description',
      'created_at',
      'last_used_at',
      'last_method',
      'last_path',
      'last_status',
      'last_scim_type',
      'last_detail',
    ])
    .where('organization_id', '=', organizationId)
    .orderBy('created_at')
    .orderBy('id')
    .limit(limit)
    .execute();
}

/**
 * Overwrites the token's last request: one row per token, one UPDATE per request (none once it is revoked). Writes
 * of concurrent requests may land in any order: an older answer never overwrites a newer one.
 */
export function updateLastRequest(
  db: Executor,
  tokenId: string,
  request: {
    at: Date;
    method: string;
    path: string;
    status: number;
    scimType: string | null;
    detail: string | null;
  },
) {
  return db
    .updateTable('scim_token')
    .set({
      last_used_at: request.at,
      last_method: request.method,
      last_path: request.path,
      last_status: request.status,
      last_scim_type: request.scimType,
      last_detail: request.detail,
    })
    .where('id', '=', tokenId)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<=', request.at)]))
    .execute();
}

/** Deletes the organization's token; answers whether there was one. */
export async function deleteScimToken(db: Executor, organizationId: string, id: string): Promise<boolean> {
  const result = await db
    .deleteFrom('scim_token')
    .where('organization_id', '=', organizationId)
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** A rep of the organization (never another's) by its assignment id. */
export function findUser(db: Executor, organizationId: string, id: string) {
  return db
    .selectFrom('organization_sales_rep')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/**
 * The organization's reps matching every term, in rep-number order (the list's own index), and how many match.
 * An email is matched through the person's unique lower(email) index.
 */
export async function listUsers(
  db: Executor,
  organizationId: string,
  terms: readonly FilterTerm[],
  page: { offset: number; limit: number },
) {
  let query = db.selectFrom('organization_sales_rep as a').where('a.organization_id', '=', organizationId);
  for (const term of terms) {
    query =
      term.attribute === 'email'
        ? query.where('a.sales_rep_id', 'in', (eb) =>
            eb
              .selectFrom('sales_rep')
              .select('id')
              .where(sql<string>`lower(email)`, '=', term.value.toLowerCase()),
          )
        : query.where('a.external_id', '=', term.value);
  }
  const { total } = await query.select(sql<number>`count(*)::int`.as('total')).executeTakeFirstOrThrow();
  const rows =
    page.limit === 0 || page.offset >= total
      ? []
      : await query
          .selectAll('a')
          .orderBy('a.rep_number')
          .orderBy('a.id')
          .offset(page.offset)
          .limit(page.limit)
          .execute();
  return { rows, total };
}
