import createClient, { type Client } from 'openapi-fetch';
import type { paths } from './openapi.js';

/** GET /console/config.json's `signIn`, for the console: the endpoint is not in the OpenAPI document. */
export type { ConsoleSignIn } from '../src/http/console-sign-in.js';
export type { components, operations, paths } from './openapi.js';

/**
 * A typed client of the Sales Reps API: paths, parameters, bodies, responses and headers come from
 * client/openapi.d.ts, which `npm run client:generate` writes from the service's own OpenAPI document.
 */
export function createSalesRepsClient(options: {
  baseUrl: string;
  /** The bearer token of every request; absent when `fetch` sets the Authorization header itself. */
  token?: string;
  fetch?: (request: Request) => Promise<Response>;
}): Client<paths> {
  return createClient<paths>({
    baseUrl: options.baseUrl,
    ...(options.token ? { headers: { authorization: `Bearer ${options.token}` } } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}
