// The SCIM unit's TypeBox schemas: the token routes' bodies and views, and the SCIM protocol's bodies and answers.
import { type Static, Type } from '@sinclair/typebox';

export const SCIM_LIMITS = {
  tokensPerOrganization: 20,
  description: 200,
  /** The most PATCH operations one request may carry (docs/scim.md, "Limits"). */
  operations: 50,
  /** A page of `/Users` (`count`). */
  pageSize: 100,
  filter: 1000,
  path: 500,
  externalId: 255,
  /** The most entries of a multi-valued attribute (emails, phoneNumbers) read from a body. */
  multiValued: 10,
  /** What is kept of a token's last request: its path (with the query's names) and an error's detail, cut short. */
  recordedPath: 300,
  recordedDetail: 500,
} as const;

export const SCIM_SCHEMA = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  enterpriseUser: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  listResponse: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  patchOp: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  error: 'urn:ietf:params:scim:api:messages:2.0:Error',
  serviceProviderConfig: 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
  resourceType: 'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
  schema: 'urn:ietf:params:scim:schemas:core:2.0:Schema',
} as const;

export const SCIM_CONTENT_TYPE = 'application/scim+json';
/** Where the SCIM protocol is served: `PUBLIC_URL/scim/v2`. */
export const SCIM_BASE_PATH = '/scim/v2';

// The token routes (problem+json, in the OpenAPI document).

export const CreateScimTokenBody = Type.Object(
  {
    description: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: SCIM_LIMITS.description,
        pattern: '^[^\\u0000-\\u001F\\u007F-\\u009F]+$',
        description: 'What the token is for, e.g. the directory it was given to.',
      }),
    ),
  },
  { additionalProperties: false, examples: [{ description: 'Okta production' }] },
);
export type CreateScimTokenBody = Static<typeof CreateScimTokenBody>;

export const ScimTokenParams = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[0-9A-Za-z]+$' }) },
  { additionalProperties: false },
);

const ScimLastRequest = Type.Object(
  {
    at: Type.String({ format: 'date-time', maxLength: 40 }),
    method: Type.String({ maxLength: 10, examples: ['POST'] }),
    path: Type.String({
      maxLength: SCIM_LIMITS.recordedPath,
      description:
        'The path under the base URL; a query is kept only as its parameter names (a filter holds an email).',
      examples: ['/Users', '/Users?filter&count'],
    }),
    status: Type.Integer({ format: 'int32', minimum: 100, maximum: 599 }),
    scimType: Type.Optional(
      Type.String({
        maxLength: 40,
        description: "An error's scimType (e.g. `uniqueness`), when it had one.",
      }),
    ),
    detail: Type.Optional(
      Type.String({
        maxLength: SCIM_LIMITS.recordedDetail,
        description: "An error's detail, as the directory was told.",
      }),
    ),
  },
  { additionalProperties: false },
);

export const ScimTokenView = Type.Object(
  {
    id: Type.String({ maxLength: 64 }),
    description: Type.Union([Type.String({ maxLength: SCIM_LIMITS.description }), Type.Null()]),
    createdAt: Type.String({ format: 'date-time', maxLength: 40 }),
    lastUsedAt: Type.Union([Type.String({ format: 'date-time', maxLength: 40 }), Type.Null()], {
      description: 'When the directory last made a request with the token (null: never).',
    }),
    lastRequest: Type.Union([ScimLastRequest, Type.Null()], {
      description: 'The last request made with the token and its outcome (null: none yet).',
    }),
  },
  { additionalProperties: false },
);
export type ScimTokenView = Static<typeof ScimTokenView>;

export const CreatedScimToken = Type.Object(
  {
    id: Type.String({ maxLength: 64 }),
    description: ScimTokenView.properties.description,
    token: Type.String({
      maxLength: 100,
      pattern: '^scim_[A-Za-z0-9_-]+$',
      description: "The directory's bearer token; shown only here.",
    }),
    createdAt: Type.String({ format: 'date-time', maxLength: 40 }),
  },
  { additionalProperties: false },
);
export type CreatedScimToken = Static<typeof CreatedScimToken>;

export const ScimTokenList = Type.Array(ScimTokenView, { maxItems: SCIM_LIMITS.tokensPerOrganization });

export const RevokedScimToken = Type.Object({ success: Type.Literal(true) }, { additionalProperties: false });

// The SCIM protocol (application/scim+json, described by /Schemas rather than the OpenAPI document).

const ScimText = Type.String({ maxLength: 1000 });
const MultiValuedEntry = Type.Object(
  {
    value: Type.Optional(Type.String({ maxLength: 1000 })),
    type: Type.Optional(Type.String({ maxLength: 100 })),
    primary: Type.Optional(Type.Union([Type.Boolean(), Type.String({ maxLength: 5 })])),
  },
  { additionalProperties: true },
);
const MultiValued = Type.Array(MultiValuedEntry, { maxItems: SCIM_LIMITS.multiValued });

/**
 * A User as POST and PUT take it. Attributes this service does not keep (displayName, title, locale, …) are
 * accepted and ignored, as directories send every attribute they map; those it keeps are checked in the unit.
 */
export const ScimUserBody = Type.Object(
  {
    schemas: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 10 })),
    userName: Type.Optional(ScimText),
    externalId: Type.Optional(Type.Union([ScimText, Type.Null()])),
    name: Type.Optional(
      Type.Object(
        {
          givenName: Type.Optional(Type.Union([ScimText, Type.Null()])),
          familyName: Type.Optional(Type.Union([ScimText, Type.Null()])),
        },
        { additionalProperties: true },
      ),
    ),
    emails: Type.Optional(MultiValued),
    phoneNumbers: Type.Optional(MultiValued),
    // Microsoft Entra ID sends booleans as the strings "True" and "False".
    active: Type.Optional(Type.Union([Type.Boolean(), Type.String({ maxLength: 5 })])),
    [SCIM_SCHEMA.enterpriseUser]: Type.Optional(
      Type.Object(
        { employeeNumber: Type.Optional(Type.Union([ScimText, Type.Null()])) },
        { additionalProperties: true },
      ),
    ),
  },
  { additionalProperties: true },
);
export type ScimUserBody = Static<typeof ScimUserBody>;

const PatchOperation = Type.Object(
  {
    // Microsoft Entra ID capitalises the operation ("Replace"): compared in any letter case.
    op: Type.String({ maxLength: 10 }),
    path: Type.Optional(Type.String({ maxLength: SCIM_LIMITS.path })),
    value: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: true },
);
export type PatchOperation = Static<typeof PatchOperation>;

export const ScimPatchBody = Type.Object(
  {
    schemas: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 10 })),
    Operations: Type.Array(PatchOperation, { minItems: 1, maxItems: SCIM_LIMITS.operations }),
  },
  { additionalProperties: true },
);
export type ScimPatchBody = Static<typeof ScimPatchBody>;

export const ScimUserParams = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);

export const ScimListQuery = Type.Object(
  {
    filter: Type.Optional(Type.String({ maxLength: SCIM_LIMITS.filter })),
    // RFC 7644 §3.4.2.4: a startIndex below 1 is taken as 1, a negative count as 0.
    startIndex: Type.Optional(Type.Integer({ minimum: -2_147_483_648, maximum: 2_147_483_647 })),
    count: Type.Optional(Type.Integer({ minimum: -2_147_483_648, maximum: 2_147_483_647 })),
  },
  { additionalProperties: true },
);
export type ScimListQuery = Static<typeof ScimListQuery>;

const Meta = Type.Object(
  {
    resourceType: Type.String({ maxLength: 40 }),
    created: Type.Optional(Type.String({ maxLength: 40 })),
    lastModified: Type.Optional(Type.String({ maxLength: 40 })),
    location: Type.String({ maxLength: 2000 }),
  },
  { additionalProperties: false },
);

export const ScimUser = Type.Object(
  {
    schemas: Type.Array(Type.String({ maxLength: 200 })),
    id: Type.String({ maxLength: 64 }),
    externalId: Type.Optional(Type.String({ maxLength: SCIM_LIMITS.externalId })),
    userName: Type.String({ maxLength: 254 }),
    name: Type.Object(
      {
        givenName: Type.String({ maxLength: 100 }),
        familyName: Type.String({ maxLength: 100 }),
        formatted: Type.String({ maxLength: 201 }),
      },
      { additionalProperties: false },
    ),
    emails: Type.Array(
      Type.Object(
        { value: Type.String({ maxLength: 254 }), type: Type.Literal('work'), primary: Type.Literal(true) },
        { additionalProperties: false },
      ),
    ),
    phoneNumbers: Type.Optional(
      Type.Array(
        Type.Object(
          { value: Type.String({ maxLength: 32 }), type: Type.Literal('work'), primary: Type.Literal(true) },
          { additionalProperties: false },
        ),
      ),
    ),
    active: Type.Boolean(),
    [SCIM_SCHEMA.enterpriseUser]: Type.Object(
      { employeeNumber: Type.String({ maxLength: 32 }) },
      { additionalProperties: false },
    ),
    meta: Meta,
  },
  { additionalProperties: false },
);
export type ScimUser = Static<typeof ScimUser>;

export const ScimUserList = Type.Object(
  {
    schemas: Type.Array(Type.String({ maxLength: 200 })),
    totalResults: Type.Integer({ minimum: 0 }),
    startIndex: Type.Integer({ minimum: 1 }),
    itemsPerPage: Type.Integer({ minimum: 0 }),
    Resources: Type.Array(ScimUser, { maxItems: SCIM_LIMITS.pageSize }),
  },
  { additionalProperties: false },
);
export type ScimUserList = Static<typeof ScimUserList>;

export const ScimErrorBody = Type.Object(
  {
    schemas: Type.Array(Type.String({ maxLength: 200 })),
    status: Type.String({ maxLength: 3, description: 'The HTTP status, as a string (RFC 7644 §3.12).' }),
    scimType: Type.Optional(Type.String({ maxLength: 40 })),
    detail: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export type ScimErrorBody = Static<typeof ScimErrorBody>;

/** The discovery documents (RFC 7643 §5–7): fixed documents, serialized as written. */
export const ScimDocument = Type.Object({}, { additionalProperties: true });
