import { expect } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import type { TestService } from '../support/service.js';

/** A rep added through the API, with a SalesRep token of its own for the organization. */
export interface TestRep {
  organizationSalesRepId: string;
  identityProviderUserId: string;
  token: string;
}

export async function addRep(
  service: TestService,
  organization: Organization,
  adminToken: string,
  rep: { email: string; repNumber: string },
): Promise<TestRep> {
  const response = await service.call('PUT', '/api/organizations/salesreps', adminToken, {
    firstName: 'Test',
    lastName: 'Rep',
    ...rep,
  });
  expect(response.statusCode, response.body).toBe(200);
  const body = response.json();
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
  const response = await service.call('PUT', '/api/customers', adminToken, customers);
  expect(response.statusCode, response.body).toBe(200);
}

/** The customer numbers of a list response, in order; fails unless the list answered 200. */
export function numbersOf(response: { statusCode: number; body: string; json(): unknown }): string[] {
  expect(response.statusCode, response.body).toBe(200);
  return (response.json() as { customerNumber: string }[]).map((customer) => customer.customerNumber);
}
