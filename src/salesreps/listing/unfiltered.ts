// The unfiltered list's engine: any page of any sort of an organization's assignments, exact and fast at any depth.
import type { Executor } from '../../db/database.js';
import type { SortField } from '../schemas.js';
import type { ListingCaches, PageBoundaries } from './caches.js';
import { FIELDS } from './fields.js';
import { type AssignmentPage, listedRows, type PageRequest } from './page.js';
import {
  BOUNDARY_INTERVAL,
  boundaryStatements,
  type PageValues,
  pageStatements,
  versionStatements,
} from './unfiltered-statements.js';

/** Boundaries read again this many times when writes change the organization meanwhile. */
const BOUNDARY_ATTEMPTS = 3;

/** The boundary key and version a seek starts from. */
interface Seek {
  key: unknown[];
  version: string;
}

/** A page and the organization's total (pageStatements), from the first row or from a boundary (`from`). */
async function selectPage(
  db: Executor,
  organizationId: string,
  page: PageRequest,
  offset: number,
  from?: Seek,
): Promise<AssignmentPage & { listVersion: string | undefined }> {
  const { sortOn, sortDirection, limit } = page;
  const statement = pageStatements.get(db, { sortOn, sortDirection, seek: from !== undefined });
  const values: PageValues = { organizationId, limit, offset };
  if (from) {
    values.version = from.version;
    from.key.forEach((part, index) => {
      values[`key${index}`] = part;
    });
  }
  const { rows } = await db.executeQuery(statement.bind(values));
  // No count row: the organization never had a rep.
  const first = rows[0];
  return { rows: listedRows(rows), total: first?.total ?? 0, listVersion: first?.list_version };
}

async function readPageBoundaries(
  db: Executor,
  organizationId: string,
  sortOn: SortField,
): Promise<PageBoundaries> {
  const { rows } = await db.executeQuery(boundaryStatements.get(db, sortOn).bind({ organizationId }));
  const first = rows[0];
  if (!first) return { version: '0', count: 0, keys: [] };
  const parts = FIELDS[sortOn].sortKey;
  return {
    version: first.version,
    count: first.assignment_count,
    keys: first.assignment_count === 0 ? [] : rows.map((row) => parts.map((_, index) => row[`k${index}`])),
  };
}

/** The organization's assignment version. */
async function assignmentVersion(db: Executor, organizationId: string): Promise<string> {
  const { rows } = await db.executeQuery(versionStatements.get(db, 'version').bind({ organizationId }));
  return rows[0]?.version ?? '0';
}

/**
 * One page of an organization's assignments, exact at any depth (OFFSET semantics, ties broken by id). A page
 * within the first BOUNDARY_INTERVAL rows of an order is read directly. A deeper one starts at the nearest kept
 * page boundary before it (the key at a known position, descending pages counting from the end), so that it
 * skips fewer than BOUNDARY_INTERVAL index entries; the boundaries hold only while the organization's version is
 * the one they were read at, which the page's own statement checks. A stale set is read again (one index-only
 * scan of the organization) and the page retried.
 */
export async function listAssignmentsPage(
  db: Executor,
  caches: ListingCaches,
  organizationId: string,
  page: PageRequest,
): Promise<AssignmentPage> {
  if (page.offset < BOUNDARY_INTERVAL) return selectPage(db, organizationId, page, page.offset);
  let knownVersion: string | undefined;
  for (let attempt = 0; attempt < BOUNDARY_ATTEMPTS; attempt++) {
    const boundaries = await caches.boundaries(organizationId, page.sortOn, knownVersion, () =>
      readPageBoundaries(db, organizationId, page.sortOn),
    );
    if (page.offset >= boundaries.count) {
      // Past the end only if the organization has not grown since the boundaries were read.
      const current = await assignmentVersion(db, organizationId);
      if (current === boundaries.version) return { rows: [], total: boundaries.count };
      knownVersion = current;
      continue;
    }
    let index: number;
    let skip: number;
    if (page.sortDirection === 'asc') {
      index = Math.floor(page.offset / BOUNDARY_INTERVAL);
      skip = page.offset - index * BOUNDARY_INTERVAL;
    } else {
      // Descending position p is ascending position count - 1 - p: start at the first boundary at or after it.
      const ascending = boundaries.count - 1 - page.offset;
      index = Math.ceil(ascending / BOUNDARY_INTERVAL);
      skip = page.offset - (boundaries.count - 1 - index * BOUNDARY_INTERVAL);
    }
    const key = boundaries.keys[index];
    if (!key) throw new Error(`No page boundary ${index} for offset ${page.offset} of ${boundaries.count}`);
    const result = await selectPage(db, organizationId, page, skip, { key, version: boundaries.version });
    if (result.listVersion === boundaries.version) return result;
    knownVersion = result.listVersion;
  }
  // Writes keep outrunning the boundaries: skip every row before the page, which is exact at any rate.
  return selectPage(db, organizationId, page, page.offset);
}
