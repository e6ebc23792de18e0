import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import type { TestService } from '../support/service.js';

export const TOKENS_URL = '/api/organizations/scim/tokens';
const SCIM = '/scim/v2';
export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** A new organization with an admin token and a SCIM token of its own. */
export async function scimTenant(service: TestService, name = 'Acme Distributors') {
  const organization: Organization = await service.createOrganization(name);
  const admin = await service.token(organization, `admin-${organization.id}`, ['Admin']);
  const created = await service.call('POST', TOKENS_URL, admin, { description: 'Okta production' });
  expect(created.statusCode, created.body).toBe(201);
  const { id, token } = created.json() as { id: string; token: string };
  return { organization, admin, tokenId: id, token };
}

/** A SCIM request as a directory sends it: the bearer token and, with a body, `application/scim+json`. */
export function scim(
  service: TestService,
  method: InjectOptions['method'],
  path: string,
  token: string,
  body?: unknown,
  contentType = 'application/scim+json',
): Promise<LightMyRequestResponse> {
  return service.app.inject({
    method,
    url: `${SCIM}${path}`,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': contentType }),
    },
    ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
}

/** Asserts a SCIM error: its status (also as the body's string), its scimType, and the SCIM media type. */
export function expectScimError(response: LightMyRequestResponse, status: number, scimType?: string) {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/scim\+json/);
  const body = response.json();
  expect(body.schemas).toEqual([ERROR_SCHEMA]);
  expect(body.status).toBe(String(status));
  if (scimType) expect(body.scimType).toBe(scimType);
  else expect(body.scimType).toBeUndefined();
  return body as { detail: string; scimType?: string };
}

/** A User as Okta's SCIM 2.0 test sends it to create one. */
export function oktaUser(email: string, repNumber: string) {
  return {
    schemas: [USER_SCHEMA, ENTERPRISE],
    userName: email,
    name: { givenName: 'Ada', familyName: 'Lovelace' },
    emails: [{ primary: true, value: email, type: 'work' }],
    displayName: 'Ada Lovelace',
    locale: 'en-US',
    externalId: `00u${repNumber}`,
    groups: [],
    password: 'unused-1Aa!',
    active: true,
    [ENTERPRISE]: { employeeNumber: repNumber },
  };
}
