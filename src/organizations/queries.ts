import type { Executor } from '../db/database.js';
import type { Organization } from '../db/schema.js';

/** How long an organization found is remembered; the API never renames or deletes one. */
const KNOWN_ORGANIZATION_TTL_MS = 30_000;
/** How many organizations each database handle remembers; past it the least recently used one is forgotten. */
const KNOWN_ORGANIZATIONS = 1_000;

const knownOrganizations = new WeakMap<
  Executor,
  Map<string, { organization: Readonly<Organization>; until: number }>
>();

/**
 * The organization of an identity organization id. Every authenticated request asks (the tenant of its token),
 * so an organization found is remembered for a short while per database handle; one not found is always looked
 * up again, so that an organization registered a moment ago (by the CLI, by another replica) is found at once.
 */
export async function findOrganizationByIdentityId(
  db: Executor,
  identityOrganizationId: string,
): Promise<Organization | undefined> {
  let known = knownOrganizations.get(db);
  if (!known) {
    known = new Map();
    knownOrganizations.set(db, known);
  }
  const now = Date.now();
  const remembered = known.get(identityOrganizationId);
  if (remembered) {
    known.delete(identityOrganizationId);
    if (remembered.until > now) {
      known.set(identityOrganizationId, remembered);
      return remembered.organization;
    }
  }
  const organization = await selectOrganizationByIdentityId(db, identityOrganizationId);
  if (organization) {
    known.set(identityOrganizationId, {
      organization: Object.freeze(organization),
      until: now + KNOWN_ORGANIZATION_TTL_MS,
    });
    if (known.size > KNOWN_ORGANIZATIONS) known.delete(known.keys().next().value as string);
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
