// The SCIM discovery documents (RFC 7643 §5–7): what this service supports, and the User schema it keeps.
import { SCIM_LIMITS, SCIM_SCHEMA } from './schemas.js';

const DOCS = 'docs/scim.md';

function meta(resourceType: string, location: string) {
  return { resourceType, location };
}

/** RFC 7643 §5: PATCH and filter yes (at most a page of SCIM_LIMITS.pageSize); bulk, sort, ETags, passwords no. */
export function serviceProviderConfig(baseUrl: string) {
  return {
    schemas: [SCIM_SCHEMA.serviceProviderConfig],
    documentationUri: DOCS,
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: SCIM_LIMITS.pageSize },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'SCIM token',
        description:
          'Authorization: Bearer <SCIM token>; an Admin creates one with POST /api/organizations/scim/tokens.',
        documentationUri: DOCS,
        primary: true,
      },
    ],
    meta: meta('ServiceProviderConfig', `${baseUrl}/ServiceProviderConfig`),
  };
}

/** RFC 7643 §6: the one resource type, User, with the enterprise extension (its employeeNumber required). */
export function userResourceType(baseUrl: string) {
  return {
    schemas: [SCIM_SCHEMA.resourceType],
    id: 'User',
    name: 'User',
    endpoint: '/Users',
    description: "The organization's sales reps.",
    schema: SCIM_SCHEMA.user,
    schemaExtensions: [{ schema: SCIM_SCHEMA.enterpriseUser, required: true }],
    meta: meta('ResourceType', `${baseUrl}/ResourceTypes/User`),
  };
}

interface AttributeOptions {
  required?: boolean;
  caseExact?: boolean;
  mutability?: 'readOnly' | 'readWrite' | 'immutable';
  uniqueness?: 'none' | 'server';
  returned?: 'always' | 'default';
  subAttributes?: object[];
  multiValued?: boolean;
  type?: 'string' | 'boolean' | 'complex';
}

function attribute(name: string, description: string, options: AttributeOptions = {}) {
  return {
    name,
    type: options.type ?? 'string',
    multiValued: options.multiValued ?? false,
    description,
    required: options.required ?? false,
    caseExact: options.caseExact ?? false,
    mutability: options.mutability ?? 'readWrite',
    returned: options.returned ?? 'default',
    uniqueness: options.uniqueness ?? 'none',
    ...(options.subAttributes ? { subAttributes: options.subAttributes } : {}),
  };
}

const workEntry = (valueDescription: string) => [
  attribute('value', valueDescription),
  attribute('type', 'Only "work" is kept; values of other types are ignored.'),
  attribute('primary', 'Always true for the value kept.', { type: 'boolean' }),
];

/** RFC 7643 §7: the attributes of a User this service keeps, and of the enterprise extension. */
export function schemas(baseUrl: string) {
  return [
    {
      schemas: [SCIM_SCHEMA.schema],
      id: SCIM_SCHEMA.user,
      name: 'User',
      description: 'A sales rep of the organization. Attributes not listed here are accepted and ignored.',
      attributes: [
        attribute('userName', "The rep's email address, unique in the organization in any letter case.", {
          required: true,
          uniqueness: 'server',
          mutability: 'immutable',
        }),
        attribute('name', "The rep's names.", {
          type: 'complex',
          required: true,
          subAttributes: [
            attribute('givenName', 'The first name, 1–100 characters.', { required: true }),
            attribute('familyName', 'The last name, 1–100 characters.', { required: true }),
            attribute('formatted', 'The first and last name.', { mutability: 'readOnly' }),
          ],
        }),
        attribute('emails', 'The work email: the userName.', {
          type: 'complex',
          multiValued: true,
          subAttributes: workEntry('The email address; must be the userName.'),
        }),
        attribute('phoneNumbers', 'The work phone number, up to 32 characters with a digit.', {
          type: 'complex',
          multiValued: true,
          subAttributes: workEntry('The phone number.'),
        }),
        attribute('active', 'false deactivates the rep in the organization, true activates it.', {
          type: 'boolean',
        }),
      ],
      meta: meta('Schema', `${baseUrl}/Schemas/${SCIM_SCHEMA.user}`),
    },
    {
      schemas: [SCIM_SCHEMA.schema],
      id: SCIM_SCHEMA.enterpriseUser,
      name: 'EnterpriseUser',
      description: 'The enterprise extension: the employee number is the rep number.',
      attributes: [
        attribute(
          'employeeNumber',
          'The rep number: 1–32 printable ASCII characters, unique in the organization.',
          {
            required: true,
            caseExact: true,
            uniqueness: 'server',
          },
        ),
      ],
      meta: meta('Schema', `${baseUrl}/Schemas/${SCIM_SCHEMA.enterpriseUser}`),
    },
  ];
}

/** A list of discovery documents (RFC 7644 §4), all on one page. */
export function listOf(resources: object[]) {
  return {
    schemas: [SCIM_SCHEMA.listResponse],
    totalResults: resources.length,
    startIndex: 1,
    itemsPerPage: resources.length,
    Resources: resources,
  };
}
