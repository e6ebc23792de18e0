// Finding an organization by its identity organization id, cached for a short while per database handle.
import type { Executor } from '../db/database.js';
import type { Organization } from '../db/schema.js';
import { lruCachePerOwner } from '../kernel/lru-cache.js';

/** How long an organization found is remembered; the API never renames or deletes one. */
const KNOWN_ORGANIZATION_TTL_MS = 30_000;
/** How many organizations each database handle remembers; past it the least recently used one is forgotten. */
const KNOWN_ORGANIZATIONS = 1_000;

const knownOrganizations = lruCachePerOwner<Readonly<Organization>>(KNOWN_ORGANIZATIONS);

/**
 * The organization of an identity organization id. Every authenticated request asks (the tenant of its token),
 * so an organization found is remembered for a short while per database handle; one not found is always looked
 * up again, so that an organization registered a moment ago (by the CLI, by another replica) is found at once.
 */
export async function findOrganizationByIdentityId(
  db: Executor,
  identityOrganizationId: string,
): Promise<Organization | undefined> {
  const known = knownOrganizations(db);
  const remembered = known.get(identityOrganizationId);
  if (remembered) return remembered;
  const organization = await selectOrganizationByIdentityId(db, identityOrganizationId);
  if (organization) {
    known.set(identityOrganizationId, Object.freeze(organization), Date.now() + KNOWN_ORGANIZATION_TTL_MS);
  }
  return organization;
}

function selectOrganizationByIdentityId(
  db: Executor,
  identityOrganizationId: string,
): Promise<Organization | undefined> {
  return db
    .selectFrom('organization')
    .selectAll()
    .where('identity_organization_id', '=', identityOrganizationId)
    .executeTakeFirst();
}

export function insertOrganization(db: Executor, organization: Omit<Organization, 'created_at'>) {
  return db.insertInto('organization').values(organization).returningAll().executeTakeFirstOrThrow();
}
