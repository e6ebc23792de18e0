import type { Executor } from '../db/database.js';
import type { Organization } from '../db/schema.js';

export function findOrganizationByIdentityId(
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
