import { expect } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { addRep, CUSTOMERS_URL } from '../support/fixtures.js';
import type { TestService } from '../support/service.js';

/** A rep added through the API, with a SalesRep token of its own for the organization. */
export interface TestRep {
  organizationSalesRepId: string;
  identityProviderUserId: string;
  token: string;
}

/** Adds a rep through the API (as `addRep` of the shared fixtures) and mints its SalesRep token. */
export async function addRepWithToken(
  service: TestService,
  organization: Organization,
  adminToken: string,
  rep: { email: string; repNumber: string },
): Promise<TestRep> {
  const body = await addRep(service, adminToken, { firstName: 'Test', lastName: 'Rep', ...rep });
  return {
    organizationSalesRepId: body.organizationSalesRepId,
    identityProviderUserId: body.identityProviderUserId,
    token: await service.token(organization, body.identityProviderUserId, ['SalesRep']),
  };
}

/** Stores customers through the API (one PUT, as a bulk import). */
export async function putCustomers(
  service: TestService,
  adminToken: string,
  customers: object[],
): Promise<void> {
  const response = await service.call('PUT', CUSTOMERS_URL, adminToken, customers);
  expect(response.statusCode, response.body).toBe(200);
}

/** The customer numbers of a list response, in order; fails unless the list answered 200. */
export function numbersOf(response: { statusCode: number; body: string; json(): unknown }): string[] {
  expect(response.statusCode, response.body).toBe(200);
  return (response.json() as { customerNumber: string }[]).map((customer) => customer.customerNumber);
}
