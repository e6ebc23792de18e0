// The access policies a route declares (public, Admin, SalesRep) and the caller they put on the request.
import type { FastifyRequest } from 'fastify';
import type { Executor } from '../db/database.js';
import type { Organization } from '../db/schema.js';
import { forbidden } from '../kernel/problem.js';
import { findOrganizationByIdentityId } from '../organizations/queries.js';
import { findAssignmentOfUser, isSalesRepUser } from './rep-state.js';
import { ROLE_ADMIN, ROLE_SALES_REP } from './roles.js';
import type { Principal } from './verify.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route. A route without one is refused to everybody. */
    policy?: Policy;
  }
  interface FastifyRequest {
    auth: RequestAuth | undefined;
  }
}

/**
 * Who may call a route: anyone, an Admin of the token's organization, an active SalesRep of it, or either (an Admin
 * token is taken as Admin; any other must pass the SalesRep policy). `SalesRepSelf` is the SalesRep policy of a
 * caller asking about itself: a user who is no rep anywhere passes too, and has nothing to see. `Scim`: an
 * organization's directory with a SCIM token (not a JWT; `scim-tokens.ts`).
 */
export type Policy = 'public' | 'Admin' | 'SalesRep' | 'SalesRepSelf' | 'AdminOrSalesRep' | 'Scim';

/** What an authorized request knows about its caller. */
export interface RequestAuth {
  principal: Principal;
  /** The tenant of the request: the token's organization. */
  organization: Organization;
  /** The caller's active assignment in the organization, present when the SalesRep policy admitted the caller. */
  salesRep?: { organizationSalesRepId: string; repNumber: string };
  /** The SCIM token's id, present when the caller is the organization's directory (the Scim policy). */
  scimTokenId?: string;
}

/**
 * Applies a route's policy to a verified principal. The SalesRep policy looks the rep's assignment up on every
 * request, so a deactivated or deleted rep is refused at once, whatever its token says.
 */
export async function authorize(
  db: Executor,
  principal: Principal,
  policy: Exclude<Policy, 'public' | 'Scim'>,
): Promise<RequestAuth> {
  const isAdmin = principal.roles.has(ROLE_ADMIN);
  const isSalesRep = principal.roles.has(ROLE_SALES_REP);
  if (!isAdmin && !isSalesRep) throw forbidden('The token holds neither the Admin nor the SalesRep role.');

  const organization = await findOrganizationByIdentityId(db, principal.identityOrganizationId);
  if (!organization) throw forbidden("The token's organization is not known to this service.");

  if (policy === 'Admin' || (policy === 'AdminOrSalesRep' && isAdmin)) {
    if (!isAdmin) throw forbidden('This endpoint requires the Admin role.');
    return { principal, organization };
  }
  const assignment = await findAssignmentOfUser(db, organization.id, principal.userId);
  if (!assignment?.active) {
    if (policy === 'SalesRepSelf' && !assignment && !(await isSalesRepUser(db, principal.userId))) {
      return { principal, organization };
    }
    throw forbidden('The caller is not an active sales rep of this organization.');
  }
  return {
    principal,
    organization,
    salesRep: { organizationSalesRepId: assignment.id, repNumber: assignment.rep_number },
  };
}

/** The caller of a route whose policy is not public (the auth hook has set it before the handler runs). */
export function requireAuth(request: FastifyRequest): RequestAuth {
  if (!request.auth) throw new Error(`Route ${request.routeOptions.url} ran without authorization`);
  return request.auth;
}
