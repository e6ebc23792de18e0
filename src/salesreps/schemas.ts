// The sales-rep routes' TypeBox schemas: field limits, bodies, query parameters and responses.
import { type Static, Type } from '@sinclair/typebox';
import { ROLE_SALES_REP } from '../auth/roles.js';
import { ID_MAX_LENGTH } from '../kernel/ids.js';
import { pageQueryFields, searchQueryField } from '../routing/page-query.js';

/** Field limits of the API (`docs/api.md`, "Field limits"; the README restates them). */
export const LIMITS = {
  name: 100,
  email: 254,
  phone: 32,
  repNumber: 32,
  id: ID_MAX_LENGTH,
  pageSize: 100,
  /** The most reps one bulk add takes, and the most invitations one "send invitations" sends. */
  bulkAdd: 100,
  search: 100,
  role: 32,
  roles: 10,
  // Set by the organization's registration and the identity provider (docs/api.md).
  organizationName: 200,
  identityId: 100,
} as const;

// A name: at least one visible character, no control characters (C0, DEL, C1); stored trimmed.
const Name = Type.String({
  minLength: 1,
  maxLength: LIMITS.name,
  pattern: '^(?=.*\\S)[^\\u0000-\\u001F\\u007F-\\u009F]+$',
});
const Email = Type.String({ format: 'email', maxLength: LIMITS.email });
// A phone number: any printable text with at least one digit, e.g. "+1 (555) 555-5555 ext. 12".
const Phone = Type.String({
  maxLength: LIMITS.phone,
  pattern: '^(?=.*[0-9])[^\\u0000-\\u001F\\u007F-\\u009F]+$',
});
// A rep number: printable ASCII, no leading or trailing space.
const RepNumber = Type.String({
  minLength: 1,
  maxLength: LIMITS.repNumber,
  pattern: '^[!-~](?:[ -~]*[!-~])?$',
  examples: ['REP-001'],
});
const Id = Type.String({ minLength: 1, maxLength: LIMITS.id, examples: ['OJ76hgt87hgas4ffG5'] });
const KNOWN_ROLES = [ROLE_SALES_REP] as const;

export const SORT_FIELDS = ['RepNumber', 'FirstName', 'LastName', 'Email', 'PhoneNumber', 'Active'] as const;
export type SortField = (typeof SORT_FIELDS)[number];
export const ListSalesRepsQuery = Type.Object(
  {
    ...pageQueryFields({
      sortFields: SORT_FIELDS,
      defaultSort: 'RepNumber',
      maxPageSize: LIMITS.pageSize,
      defaultPageSize: 25,
    }),
    search: searchQueryField('Reps whose first name, last name, email or rep number', LIMITS.search),
    active: Type.Optional(
      Type.Boolean({ description: '`true` for active reps only, `false` for deactivated reps only.' }),
    ),
    include: Type.Optional(
      Type.String({
        enum: ['signIn'],
        description:
          "`signIn` adds each rep's `addedAt` and `signIn` (invited, invitation expired, signed in, inactive) " +
          'to the page; without it the items are as they always were.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ListSalesRepsQuery = Static<typeof ListSalesRepsQuery>;

// What responses carry: values the service stored after validating them, so bounded by the same limits.
const IdOut = Type.String({ maxLength: LIMITS.id });
const NameOut = Type.String({ maxLength: LIMITS.name });
const EmailOut = Type.String({ format: 'email', maxLength: LIMITS.email });
const PhoneOut = Type.Union([Type.String({ maxLength: LIMITS.phone }), Type.Null()], {
  description: 'null when none was given',
});
const RepNumberOut = Type.String({ maxLength: LIMITS.repNumber });
/** The assignment's fields, rep number first, as the rep's organizations and a changed number show them. */
const numberedRepFieldsOut = {
  organizationSalesRepId: IdOut,
  salesRepId: IdOut,
  repNumber: RepNumberOut,
  firstName: NameOut,
  lastName: NameOut,
  email: EmailOut,
};
/** A rep's fields as an assignment and the answer to adding a rep show them, in this order. */
const repFieldsOut = {
  salesRepId: IdOut,
  firstName: NameOut,
  lastName: NameOut,
  email: EmailOut,
  phoneNumber: PhoneOut,
  repNumber: RepNumberOut,
};

const OrganizationSalesRep = Type.Object({
  organizationId: IdOut,
  organizationSalesRepId: IdOut,
  ...repFieldsOut,
  active: Type.Boolean(),
});

/** A rep's sign-in state, in the order the admin's list tells them apart (docs/api.md, "Sign-in state"). */
const SIGN_IN_STATES = ['inactive', 'unknown', 'signedIn', 'invited', 'invitationExpired'] as const;
export type SignInState = (typeof SIGN_IN_STATES)[number];
const DateTimeOut = Type.String({ format: 'date-time', maxLength: 40 });
const SignInOut = Type.Object(
  {
    state: Type.String({
      enum: [...SIGN_IN_STATES],
      description:
        '`inactive`: the assignment is deactivated. `unknown`: the reps sign in at an external identity ' +
        'provider, which this service does not ask. `signedIn`: the rep has set a password or signed in. ' +
        '`invited`: the invitation link works until `invitationExpiresAt` (null while its mail is being sent). ' +
        '`invitationExpired`: no link works and none is on its way.',
    }),
    invitationExpiresAt: Type.Union([DateTimeOut, Type.Null()], {
      description: "Until when the rep's unused link works; null when there is none.",
    }),
    lastSignedInAt: Type.Union([DateTimeOut, Type.Null()], {
      description:
        "The rep's last sign-in to this organization through the embedded sign-in; null when none.",
    }),
    canResendInvitation: Type.Boolean({
      description: 'Whether POST /api/organizations/salesreps/invitation would send one (not a 409).',
    }),
  },
  { description: 'With `include=signIn` only.' },
);

/** An item of the admin's list: the assignment, with `addedAt` and `signIn` when `include=signIn` asks for them. */
export const ListedSalesRep = Type.Object({
  ...OrganizationSalesRep.properties,
  addedAt: Type.Optional({
    ...DateTimeOut,
    description: 'When the rep was added. With `include=signIn` only.',
  }),
  signIn: Type.Optional(SignInOut),
});
export type ListedSalesRep = Static<typeof ListedSalesRep>;

export const SalesRepOrganization = Type.Object({
  organizationId: IdOut,
  organizationName: Type.String({ maxLength: LIMITS.organizationName }),
  identityOrganizationId: Type.String({ maxLength: LIMITS.identityId }),
  identityProviderUserId: Type.String({ maxLength: LIMITS.identityId }),
  ...numberedRepFieldsOut,
  phoneNumber: PhoneOut,
  active: Type.Boolean(),
});
export type SalesRepOrganization = Static<typeof SalesRepOrganization>;

/** The rep's own organizations take no parameters: the rep is the token's user, never one named in the URL. */
export const MyOrganizationsQuery = Type.Object({}, { additionalProperties: false });

export const MyOrganizationsResponse = Type.Object({
  // One entry per organization the rep belongs to: not a page, so no bound but the number of organizations.
  salesRepOrganizations: Type.Array(SalesRepOrganization),
});

export const AddSalesRepBody = Type.Object(
  {
    firstName: Name,
    lastName: Name,
    email: Email,
    // null, like an absent phone, means "none": the responses show null for it.
    phoneNumber: Type.Optional(Type.Union([Phone, Type.Null()])),
    repNumber: RepNumber,
    // Declared as the published API's string[]: an enum or a one-item bound would have generators type it as the
    // tuple ['SalesRep']. The pattern still refuses any role but the known ones.
    roles: Type.Optional(
      Type.Array(
        Type.String({
          maxLength: LIMITS.role,
          pattern: `^(?:${KNOWN_ROLES.join('|')})$`,
          description: `A known role: ${KNOWN_ROLES.join(', ')}.`,
        }),
        {
          minItems: 1,
          maxItems: LIMITS.roles,
          uniqueItems: true,
          description: 'Roles to assign at the identity provider; default ["SalesRep"].',
        },
      ),
    ),
  },
  {
    additionalProperties: false,
    examples: [
      {
        firstName: 'John',
        lastName: 'Doe',
        email: 'john.doe@example.com',
        phoneNumber: '123-456-7890',
        repNumber: 'REP-001',
        roles: ['SalesRep'],
      },
    ],
  },
);
export type AddSalesRepBody = Static<typeof AddSalesRepBody>;

export const AddSalesRepResponse = Type.Object({
  organizationId: IdOut,
  organizationName: Type.String({ maxLength: LIMITS.organizationName }),
  organizationSalesRepId: IdOut,
  ...repFieldsOut,
  identityProvider: Type.String({ enum: ['Local', 'Kinde'], description: 'The identity provider in use.' }),
  identityProviderUserId: Type.String({ maxLength: LIMITS.identityId }),
});
export type AddSalesRepResponse = Static<typeof AddSalesRepResponse>;

export const ChangeRepNumberBody = Type.Object(
  {
    organizationSalesRepId: Id,
    repNumber: RepNumber,
    reassignCustomers: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          "When true, the organization's customers that carry the rep's old number are given the new one in " +
          'the same transaction, so the rep keeps its accounts. When false (the default) the customers keep ' +
          "their numbers: the rep's scope moves to the customers that carry the new number, and those with the " +
          'old number are seen by Admins only until a rep holds it again.',
      }),
    ),
  },
  {
    additionalProperties: false,
    examples: [{ organizationSalesRepId: 'KJ76hgt87hgas4ffG3', repNumber: 'REP-099' }],
  },
);
export type ChangeRepNumberBody = Static<typeof ChangeRepNumberBody>;

export const ChangeRepNumberResponse = Type.Object({
  organizationId: IdOut,
  ...numberedRepFieldsOut,
  success: Type.Literal(true),
});
export type ChangeRepNumberResponse = Static<typeof ChangeRepNumberResponse>;

const ASSIGNMENT_EXAMPLE = { organizationSalesRepId: 'KJ76hgt87hgas4ffG3' };

export const AssignmentBody = Type.Object(
  { organizationSalesRepId: Id },
  { additionalProperties: false, examples: [ASSIGNMENT_EXAMPLE] },
);
export type AssignmentBody = Static<typeof AssignmentBody>;

export const DeleteBody = Type.Object(
  { organizationSalesRepId: Type.Optional(Id) },
  {
    additionalProperties: false,
    description: 'May be left out when the id comes in the query.',
    examples: [ASSIGNMENT_EXAMPLE],
  },
);

export const DeleteQuery = Type.Object(
  { organizationSalesRepId: Type.Optional(Id) },
  { additionalProperties: false },
);

export const SuccessResponse = Type.Object({ success: Type.Literal(true) });

/** A bulk add of LIMITS.bulkAdd reps, each at its field limits, does not fit the service-wide body limit. */
export const BULK_ADD_BODY_LIMIT_BYTES = 256 * 1024;

export const BulkAddSalesRepsBody = Type.Array(AddSalesRepBody, {
  minItems: 1,
  maxItems: LIMITS.bulkAdd,
  description: `1 to ${LIMITS.bulkAdd} reps, each as the PUT takes one; added all or none.`,
  examples: [
    [
      { firstName: 'John', lastName: 'Doe', email: 'john.doe@example.com', repNumber: 'REP-001' },
      {
        firstName: 'Mary',
        lastName: 'Major',
        email: 'mary.major@example.com',
        phoneNumber: '123-456-7890',
        repNumber: 'REP-002',
      },
    ],
  ],
});
export type BulkAddSalesRepsBody = Static<typeof BulkAddSalesRepsBody>;

export const BulkAddSalesRepsQuery = Type.Object(
  {
    sendInvitations: Type.Optional(
      Type.Boolean({
        default: true,
        description:
          'false adds the reps without mailing their invitations; "Send invitations" ' +
          '(POST /api/organizations/salesreps/pending-invitations) mails them later.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type BulkAddSalesRepsQuery = Static<typeof BulkAddSalesRepsQuery>;

export const BulkAddSalesRepsResponse = Type.Array(AddSalesRepResponse, { maxItems: LIMITS.bulkAdd });

export const PendingInvitationsResponse = Type.Object({
  pending: Type.Integer({
    format: 'int32',
    minimum: 0,
    maximum: 2_147_483_647,
    description: 'Active reps added without their invitation and not invited since.',
  }),
});

export const SentInvitationsResponse = Type.Object({
  sent: Type.Integer({ format: 'int32', minimum: 0, maximum: LIMITS.bulkAdd }),
  pending: Type.Integer({
    format: 'int32',
    minimum: 0,
    maximum: 2_147_483_647,
    description: 'Reps still waiting for their invitation: send again until 0.',
  }),
});
