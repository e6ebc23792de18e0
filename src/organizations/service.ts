// Organizations: their view and their creation by the CLI and the demo start.
import type { Db } from '../db/database.js';
import type { Organization } from '../db/schema.js';
import { newId } from '../kernel/ids.js';
import { findOrganizationByIdentityId, insertOrganization } from './queries.js';

export interface OrganizationView {
  organizationId: string;
  organizationName: string;
  identityOrganizationId: string;
}

export function toOrganizationView(organization: Organization): OrganizationView {
  return {
    organizationId: organization.id,
    organizationName: organization.name,
    identityOrganizationId: organization.identity_organization_id,
  };
}

/** An organization that cannot be created as asked: invalid input, or its identity organization id is taken. */
export class OrganizationInputError extends Error {}

/** Registers an organization (a supplier tenant) under its identity provider organization id. */
export async function createOrganization(
  db: Db,
  input: { name: string; identityOrganizationId: string },
): Promise<Organization> {
  const name = input.name.trim();
  const identityOrganizationId = input.identityOrganizationId.trim();
  if (!name || name.length > 200)
    throw new OrganizationInputError('The organization name must be 1 to 200 characters.');
  if (!/^[A-Za-z0-9_.:-]{1,100}$/.test(identityOrganizationId)) {
    throw new OrganizationInputError(
      'The identity organization id must be 1 to 100 letters, digits, or _ . : -',
    );
  }
  if (await findOrganizationByIdentityId(db, identityOrganizationId)) {
    throw new OrganizationInputError(
      `An organization with identity organization id "${identityOrganizationId}" exists already.`,
    );
  }
  return insertOrganization(db, { id: newId(), name, identity_organization_id: identityOrganizationId });
}
