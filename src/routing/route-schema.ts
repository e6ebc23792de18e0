// The pieces of a route's schema every feature uses: its problem responses, JSON responses, the page headers.
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import { PROBLEM_CONTENT_TYPE, type Problem, type ProblemCode, problemBody } from '../kernel/problem.js';

const REQUEST_ID_EXAMPLE = '3f2b8c1e-9d4a-4c6b-8e7f-1a2b3c4d5e6f';

/** Each status's description and an example body, as the service sends it. */
const problems: Record<
  number,
  { description: string; code: ProblemCode; detail: string; errors?: Problem['errors'] }
> = {
  400: {
    description: 'Invalid input; `errors` names each field.',
    code: 'validation',
    detail: 'The request body is not valid: email.',
    errors: [{ field: 'email', message: 'must match format "email"' }],
  },
  401: {
    description: 'Missing or invalid bearer token.',
    code: 'unauthorized',
    detail: 'A bearer token is required (Authorization: Bearer <JWT>).',
  },
  403: {
    description: "The token's roles or organization do not allow this.",
    code: 'forbidden',
    detail: 'This endpoint requires the Admin role.',
  },
  404: {
    description: 'Not found in this organization.',
    code: 'not-found',
    detail: 'No sales rep with that organizationSalesRepId in this organization.',
  },
  409: {
    description: 'Conflicts with the current state.',
    code: 'rep-number-taken',
    detail: 'Rep number REP-001 is already used in this organization.',
  },
  413: {
    description: 'The body is too large.',
    code: 'body-too-large',
    detail: 'The request body is too large.',
  },
  415: {
    description: 'The body is not application/json, or has a Content-Encoding other than identity.',
    code: 'unsupported-media-type',
    detail: 'The request body must be application/json.',
  },
  429: {
    description: 'Too many requests; `Retry-After` says when to try again.',
    code: 'rate-limited',
    detail: 'Too many requests; retry in 1 minute.',
  },
  431: {
    description: 'The request line and headers are too large.',
    code: 'headers-too-large',
    detail: 'The request line and headers are too large.',
  },
  500: {
    description: 'An unexpected fault; `requestId` identifies it in the logs.',
    code: 'internal',
    detail: 'An unexpected error occurred; the request id identifies it in the logs.',
  },
  503: {
    description: 'The database or a service it needs is unavailable; try again shortly.',
    code: 'database-unavailable',
    detail: 'The database is not reachable; try again shortly.',
  },
};

/** Statuses every route can answer with: the rate limit, a fault, the database away. */
const ALWAYS_POSSIBLE = [429, 500, 503];

/** The problem+json responses of the given statuses, each with the Problem schema and an example. */
export function problemResponses(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => {
      const problem = problems[status];
      if (!problem) throw new Error(`No problem description for status ${status}`);
      const example = problemBody(status, problem.code, problem.detail, REQUEST_ID_EXAMPLE, problem.errors);
      return [
        status,
        {
          description: problem.description,
          content: { [PROBLEM_CONTENT_TYPE]: { schema: Type.Ref('Problem'), example } },
        },
      ];
    }),
  );
}

/** The problem+json responses a route declares: the given statuses and those any route can answer with. */
export function errorResponses(...statuses: number[]) {
  return problemResponses(...statuses, ...ALWAYS_POSSIBLE);
}

/**
 * A JSON response: its description, schema and an example (what /docs shows and the linters check), and headers
 * of its own (those every response carries are added to the document in one place, src/http/openapi.ts).
 */
export function jsonResponse<T extends TSchema>(
  description: string,
  schema: T,
  example: Static<T>,
  headers?: Record<string, TSchema>,
) {
  return {
    description,
    ...(headers ? { headers } : {}),
    content: { 'application/json': { schema, example } },
  };
}

/** Answers 200 with no body at all (the typed reply would insist on a payload). */
export function sendEmpty(reply: { code(status: number): unknown }): FastifyReply {
  return (reply.code(200) as FastifyReply).send();
}

/** The headers of every page of a list (docs/api.md "Paging"). */
export const PAGE_HEADERS = {
  'X-Total-Count': Type.Integer({
    format: 'int32',
    minimum: 0,
    maximum: 2_147_483_647,
    description: 'How many items the whole list has (every page, not only this one).',
  }),
  Link: Type.String({
    maxLength: 4096,
    description:
      'RFC 8288 links, relative to this service: `first` and `last` always, `prev` and `next` where such a page ' +
      'exists; each keeps the page size, sort and filters.',
  }),
};
