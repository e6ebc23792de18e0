// The schema of the caller's organization as the API answers it.
import { type Static, Type } from '@sinclair/typebox';
import { LIMITS } from '../salesreps/schemas.js';

export const CurrentOrganization = Type.Object({
  organizationId: Type.String({ maxLength: LIMITS.id }),
  organizationName: Type.String({ maxLength: LIMITS.organizationName }),
  identityOrganizationId: Type.String({ maxLength: LIMITS.identityId }),
});
export type CurrentOrganization = Static<typeof CurrentOrganization>;
