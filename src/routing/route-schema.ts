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
  414: {
    description: 'A path parameter is longer than 200 characters.',
    code: 'uri-too-long',
    detail: 'A path parameter is longer than 200 characters.',
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

/** A Standard Webhooks delivery as the OpenAPI `webhooks` object describes it: what the service POSTs, and how. */
export interface WebhookDelivery {
  operationId: string;
  summary: string;
  description: string;
  tags: string[];
  /** What `webhook-id` holds (the same on every attempt of a delivery). */
  idDescription: string;
  payload: TSchema;
  example: unknown;
  /** What the receiver's answers mean, beyond "a 2xx acknowledges it". */
  answers: Record<string, string>;
}

/** A signed POST as Standard Webhooks say: the JSON payload and the `webhook-id`, `-timestamp`, `-signature` headers. */
export function webhookPost(delivery: WebhookDelivery) {
  const header = (name: string, description: string, schema: Record<string, unknown>) => ({
    name,
    in: 'header',
    required: true,
    description,
    schema,
  });
  return {
    post: {
      tags: delivery.tags,
      operationId: delivery.operationId,
      summary: delivery.summary,
      description: delivery.description,
      // Signed, not authenticated with a token: the receiver checks the signature with its secret.
      security: [],
      parameters: [
        header('webhook-id', delivery.idDescription, { type: 'string', maxLength: 64 }),
        header('webhook-timestamp', 'When it was signed, in seconds since the Unix epoch.', {
          type: 'string',
          pattern: '^[0-9]{1,12}$',
          maxLength: 12,
        }),
        header(
          'webhook-signature',
          '`v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`, space-separated when two secrets ' +
            'sign (after a rotation).',
          { type: 'string', pattern: '^v1,[A-Za-z0-9+/=]+( v1,[A-Za-z0-9+/=]+)*$', maxLength: 1024 },
        ),
      ],
      requestBody: {
        required: true,
        content: { 'application/json': { schema: delivery.payload, example: delivery.example } },
      },
      responses: {
        '200': { description: 'Acknowledged: any 2xx status. The body is not read.' },
        ...Object.fromEntries(
          Object.entries(delivery.answers).map(([status, description]) => [status, { description }]),
        ),
      },
    },
  };
}
