import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { AddSalesRepBody, AddSalesRepResponse } from '../../src/salesreps/schemas.js';
import type { TestService } from './service.js';

/** The API's paths, as the published API names them. */
export const REPS_URL = '/api/organizations/salesreps';
export const MY_ORGANIZATIONS_URL = '/api/salesreps/organizations';
export const CUSTOMERS_URL = '/api/customers';
export const EFFECTS_URL = '/api/organizations/effects';

/** The fields of a PUT body; each test overrides what it is about. */
export type NewRep = AddSalesRepBody;

/** What a successful PUT answers with. */
export type AddedRep = AddSalesRepResponse;

let sequence = 0;

/** A valid PUT body with a unique email and rep number. */
export function newRep(overrides: Partial<NewRep> = {}): NewRep {
  sequence += 1;
  return {
    firstName: 'Jane',
    lastName: 'Smith',
    email: `rep${sequence}.${Date.now().toString(36)}@example.com`,
    repNumber: `REP-${sequence}`,
    ...overrides,
  };
}

/** Adds a rep through the API (a valid body, with `overrides`) and fails the test unless the PUT succeeds. */
export async function addRep(
  service: Pick<TestService, 'call'>,
  adminToken: string,
  overrides: Partial<NewRep> = {},
): Promise<AddedRep> {
  const response = await service.call('PUT', REPS_URL, adminToken, newRep(overrides));
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as AddedRep;
}

/** Stack frames, SQL and driver words that must never reach a response body. */
const LEAKS =
  /\bat [\w.<>]+ \(|node_modules|\.ts:\d|\bselect\b|\binsert into\b|\bupdate\b.+\bset\b|duplicate key|violates|constraint|sqlstate/i;

/**
 * Asserts an RFC 9457 problem response (`docs/api.md`, "Errors") with the status: problem+json, a stable type, a
 * title and a detail, the request id of the response's own header (or the one given), nothing that leaks the
 * implementation, and an `errors` list that names every given field. Answers the body.
 */
export function expectProblem(
  response: LightMyRequestResponse,
  status: number,
  fields: string[] = [],
  requestId?: string,
) {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = response.json();
  expect(body).toMatchObject({ status, type: expect.stringMatching(/^urn:salesreps:problem:[a-z-]+$/) });
  expect(typeof body.title).toBe('string');
  expect(typeof body.detail).toBe('string');
  expect(body.requestId).toBe(requestId ?? response.headers['x-request-id']);
  expect(response.body).not.toMatch(LEAKS);
  if (fields.length > 0) {
    expect((body.errors as { field: string }[] | undefined)?.map((error) => error.field)).toEqual(
      expect.arrayContaining(fields),
    );
  }
  return body;
}
