// The OpenAPI documentation of the sales-rep routes: each operation's summary, description, responses and examples.
import { Type } from '@sinclair/typebox';
import { errorResponses, jsonResponse, PAGE_HEADERS } from '../routing/route-schema.js';
import {
  AddSalesRepResponse,
  BulkAddSalesRepsResponse,
  ChangeRepNumberResponse,
  LIMITS,
  ListedSalesRep,
  MyOrganizationsResponse,
  PendingInvitationsResponse,
  SentInvitationsResponse,
  SuccessResponse,
} from './schemas.js';

const tags = ['Sales reps'];

// The published API's own examples (emails on example.com).
const JOHN = {
  organizationId: '34ku8ni238sdin0n23cdm6',
  organizationSalesRepId: 'OJ76hgt87hgas4ffG5',
  salesRepId: 'KJ76hgt87hgas4ffG3',
  firstName: 'John',
  lastName: 'Doe',
  email: 'john.doe@example.com',
  phoneNumber: '555-555-5555',
  repNumber: '1234',
  active: true,
};
const MARY = {
  ...JOHN,
  organizationSalesRepId: 'OJ76hgt87hgas4ffG6',
  salesRepId: 'AJ76hgt87hgas4ffG9',
  firstName: 'Mary',
  email: 'mary.doe@example.com',
  repNumber: 'MRY',
  active: false,
};
/** John as the add-a-rep operations answer him: the stored rep, its assignment and the identity provider's user. */
const JOHN_ADDED = {
  organizationId: JOHN.organizationId,
  organizationName: 'Acme Distributors',
  organizationSalesRepId: JOHN.organizationSalesRepId,
  salesRepId: JOHN.salesRepId,
  firstName: 'John',
  lastName: 'Doe',
  email: 'john.doe@example.com',
  phoneNumber: '123-456-7890',
  repNumber: 'REP-001',
  identityProvider: 'Kinde',
  identityProviderUserId: 'kinde_user_xyz789',
};
const adminOnly = "Policy: Admin of the token's organization.";

/** Activating and deactivating differ only in their words. */
const setActiveDocs = (active: boolean) => ({
  tags,
  operationId: active ? 'activateSalesRep' : 'deactivateSalesRep',
  summary: active ? 'Reactivate a sales rep' : 'Deactivate a sales rep',
  description: `${adminOnly} Idempotent: repeating it changes nothing and sends nothing more.`,
  response: {
    200: { description: 'OK, with no body.', type: 'null' },
    ...errorResponses(400, 401, 403, 404, 413, 415),
  },
});

export const salesRepDocs = {
  listMyOrganizations: {
    tags,
    operationId: 'listMyOrganizations',
    summary: "The calling rep's organizations",
    description:
      "Every assignment of the rep behind the token's user, active or not, by organization name. Policy: " +
      "SalesRep (or Admin) with an active assignment in the token's organization; a user who is no rep " +
      'anywhere gets an empty list, a rep inactive in (or absent from) the organization 403.',
    response: {
      200: jsonResponse("The rep's assignments, by organization name.", MyOrganizationsResponse, {
        salesRepOrganizations: [
          {
            organizationId: '34ku8ni238sdin0n23cdm6',
            organizationName: 'Acme Distributors',
            identityOrganizationId: 'kinde_org_abc123',
            identityProviderUserId: 'kinde_user_xyz789',
            organizationSalesRepId: 'OJ76hgt87hgas4ffG5',
            salesRepId: 'KJ76hgt87hgas4ffG3',
            repNumber: 'REP-001',
            firstName: 'Jane',
            lastName: 'Smith',
            email: 'jane.smith@example.com',
            phoneNumber: '555-555-5555',
            active: true,
          },
        ],
      }),
      ...errorResponses(400, 401, 403),
    },
  },

  listSalesReps: {
    tags,
    operationId: 'listSalesReps',
    summary: "The organization's sales reps, a page at a time",
    description:
      `${adminOnly} \`search\` keeps the reps whose first name, last name, email or rep number holds the text ` +
      'anywhere (one or two characters: at the start), in any letter case, accents or not ' +
      "(this organization's names for them, never another's); `active` keeps the " +
      'active or the deactivated reps. X-Total-Count holds the number of matching reps; Link holds first, ' +
      'prev, next and last, with the same filters. `include=signIn` adds when each rep was added and its ' +
      "sign-in state (read for the page's reps only, by their keys).",
    response: {
      200: jsonResponse(
        'One page of reps; X-Total-Count and Link describe the whole list.',
        Type.Array(ListedSalesRep, { maxItems: LIMITS.pageSize }),
        [JOHN, MARY],
        PAGE_HEADERS,
      ),
      ...errorResponses(400, 401, 403),
    },
  },

  addSalesRep: {
    tags,
    operationId: 'addSalesRep',
    summary: 'Create a sales rep (or reuse the one with that email) and assign it to the organization',
    description: `${adminOnly} Sends a welcome email and provisions the rep at the identity provider.`,
    response: {
      200: jsonResponse('The stored rep and its new assignment.', AddSalesRepResponse, JOHN_ADDED),
      ...errorResponses(400, 401, 403, 409, 413, 415),
    },
  },

  addSalesReps: {
    tags,
    operationId: 'addSalesReps',
    summary: `Add up to ${LIMITS.bulkAdd} sales reps at once, all or none`,
    description:
      `${adminOnly} Each item is checked and written as the PUT checks and writes one rep, with the same effects ` +
      'and `sales_rep.created` event, all in one transaction. Refused as a whole, each error naming its item ' +
      '(`[3].email`): 400 for an invalid item or one repeating the email (in any letter case) or rep number of an ' +
      'earlier item; 409 (`reps-taken`) when reps of the organization hold some of the emails or rep numbers. ' +
      '`sendInvitations=false` records no welcome mail: the reps wait for `POST ' +
      '/api/organizations/salesreps/pending-invitations`.',
    response: {
      200: jsonResponse(
        'The stored reps and their new assignments, in the order sent.',
        BulkAddSalesRepsResponse,
        [JOHN_ADDED],
      ),
      ...errorResponses(400, 401, 403, 409, 413, 415),
    },
  },

  pendingInvitations: {
    tags,
    operationId: 'countPendingInvitations',
    summary: 'How many reps wait for their invitation',
    description: `${adminOnly} The active reps added by a bulk add with \`sendInvitations=false\` and not invited since.`,
    response: {
      200: jsonResponse('The number of reps waiting.', PendingInvitationsResponse, { pending: 12 }),
      ...errorResponses(401, 403),
    },
  },

  sendPendingInvitations: {
    tags,
    operationId: 'sendPendingInvitations',
    summary: 'Send the invitations a bulk add held back',
    description:
      `${adminOnly} Records the welcome mail of up to ${LIMITS.bulkAdd} waiting reps (oldest first), each with an ` +
      '`invitation.sent` event; `pending` says how many still wait: send again until it is 0. Activating a ' +
      'waiting rep invites it too.',
    response: {
      200: jsonResponse('How many were sent, and how many still wait.', SentInvitationsResponse, {
        sent: 12,
        pending: 0,
      }),
      // It takes no body; one sent anyway is still parsed by its content type.
      ...errorResponses(400, 401, 403, 413, 415),
    },
  },

  changeRepNumber: {
    tags,
    operationId: 'changeRepNumber',
    summary: "Change a rep's number within the organization",
    description: adminOnly,
    response: {
      200: jsonResponse('The assignment with its new number.', ChangeRepNumberResponse, {
        organizationId: JOHN.organizationId,
        organizationSalesRepId: JOHN.organizationSalesRepId,
        salesRepId: JOHN.salesRepId,
        repNumber: 'REP-099',
        firstName: 'John',
        lastName: 'Doe',
        email: 'john.doe@example.com',
        success: true,
      }),
      ...errorResponses(400, 401, 403, 404, 409, 413, 415),
    },
  },

  activateSalesRep: setActiveDocs(true),
  deactivateSalesRep: setActiveDocs(false),

  removeSalesRep: {
    tags,
    operationId: 'removeSalesRep',
    summary: 'Remove a sales rep from the organization permanently',
    description:
      `${adminOnly} The organizationSalesRepId comes in the body or, for clients that cannot send a ` +
      'DELETE body, as a query parameter.',
    response: {
      200: jsonResponse('The assignment is gone.', SuccessResponse, { success: true }),
      ...errorResponses(400, 401, 403, 404, 413, 415),
    },
  },
};
