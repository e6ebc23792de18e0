// The statements of the unfiltered list: a page with the organization's total, its page boundaries, its version.
import { type Kysely, sql } from 'kysely';
import { placeholder, StatementsByShape } from '../../db/compiled-statements.js';
import type { Tables } from '../../db/schema.js';
import type { SortDirection } from '../../kernel/sort-direction.js';
import type { SortField } from '../schemas.js';
import { FIELDS, keyColumns, orderByKey } from './fields.js';
import { type AssignmentListRow, LISTED_COLUMNS } from './page.js';

/** A page boundary is kept every this many rows of an order; a deep page skips fewer rows than this. */
export const BOUNDARY_INTERVAL = 100;

/** What a page statement is compiled for: the sort, and whether it seeks a page boundary or starts at the first row. */
interface PageShape {
  sortOn: SortField;
  sortDirection: SortDirection;
  seek: boolean;
}

/** A page statement's values; with a seek, the boundary's key (`key0`, `key1`, ... its parts) and version too. */
export type PageValues = {
  organizationId: string;
  limit: number;
  offset: number;
  version?: string;
} & { [part: `key${number}`]: unknown };

type PageRow = Partial<AssignmentListRow> & { list_version: string; total: number };

/**
 * One page and the organization's total, in one statement (one snapshot, one round trip). The ids come from an
 * index-only scan of the sort's index (OFFSET skips index entries, never table rows), then only those rows are
 * read; the total is the count its triggers keep exact (migration 0004). With a seek, the scan starts at a page
 * boundary instead of the first row, and runs only while the organization's assignments are still at the
 * boundary's version in this statement's snapshot; `list_version` tells which version that snapshot saw.
 */
export const pageStatements = new StatementsByShape<Tables, PageShape, PageRow, PageValues>(
  ({ sortOn, sortDirection, seek }) => `${sortOn} ${sortDirection} ${seek}`,
  ({ sortOn, sortDirection, seek }) => {
    const organizationId = placeholder<string>('organizationId');
    const keyParts = FIELDS[sortOn].sortKey;
    const seekCondition = seek
      ? sql`and (${sql.join(keyParts)}) ${sql.raw(sortDirection === 'asc' ? '>=' : '<=')} (${sql.join(keyParts.map((_, index) => placeholder(`key${index}`)))})
          and c.version = ${placeholder<string>('version')}`
      : sql``;
    return sql<PageRow>`
      select c.version::text as list_version, c.assignment_count as total, ${LISTED_COLUMNS}
      from organization_assignment_count c
      left join lateral (
        select id, ${sql.join(keyColumns(sortOn))}
        from organization_sales_rep
        where organization_id = ${organizationId} ${seekCondition}
        order by ${orderByKey(sortOn, sortDirection)}
        limit ${placeholder<number>('limit')} offset ${placeholder<number>('offset')}
      ) page on true
      left join organization_sales_rep a on a.id = page.id
      where c.organization_id = ${organizationId}
      order by ${orderByKey(sortOn, sortDirection, 'page')}`;
  },
);

type BoundariesRow = { version: string; assignment_count: number } & Record<string, unknown>;

/**
 * The boundaries of an order (the key at every BOUNDARY_INTERVAL-th ascending position), with the version and count
 * they belong to, in one snapshot: one index-only scan of the organization's entries.
 */
export const boundaryStatements = new StatementsByShape<
  Tables,
  SortField,
  BoundariesRow,
  { organizationId: string }
>(
  (sortOn) => sortOn,
  (sortOn) => {
    const organizationId = placeholder<string>('organizationId');
    return sql<BoundariesRow>`
      select c.version::text as version, c.assignment_count, b.*
      from organization_assignment_count c
      left join lateral (
        select ${sql.join(FIELDS[sortOn].sortKey.map((_, index) => sql.ref(`k${index}`)))}
        from (
          select ${sql.join(keyColumns(sortOn))},
            row_number() over (order by ${orderByKey(sortOn, 'asc')}) - 1 as position
          from organization_sales_rep where organization_id = ${organizationId}
        ) numbered
        where position % ${sql.lit(BOUNDARY_INTERVAL)} = 0
        order by position
      ) b on true
      where c.organization_id = ${organizationId}`;
  },
);

/** The organization's assignment version, which every insert, delete and sort-key change moves on. */
export const versionStatements = new StatementsByShape<
  Tables,
  'version',
  { version: string },
  { organizationId: string }
>(
  () => 'version',
  (_, db: Kysely<Tables>) =>
    db
      .selectFrom('organization_assignment_count')
      .select(sql<string>`version::text`.as('version'))
      .where('organization_id', '=', placeholder<string>('organizationId')),
);
