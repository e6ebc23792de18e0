import { Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';

const descriptions: Record<number, string> = {
  400: 'Invalid input; `errors` names each field.',
  401: 'Missing or invalid bearer token.',
  403: "The token's roles or organization do not allow this.",
  404: 'Not found in this organization.',
  409: 'Conflicts with the current state.',
  413: 'The body is too large.',
  415: 'The body is not application/json.',
  429: 'Too many requests; `Retry-After` says when to try again.',
  500: 'An unexpected fault; `requestId` identifies it in the logs.',
  503: 'The database or a service it needs is unavailable; try again shortly.',
};

/** Statuses every route can answer with: the rate limit, a fault, the database away. */
const ALWAYS_POSSIBLE = [429, 500, 503];

/** The problem+json responses a route declares: the given statuses and those any route can answer with. */
export function errorResponses(...statuses: number[]) {
  return Object.fromEntries(
    [...statuses, ...ALWAYS_POSSIBLE].map((status) => [
      status,
      Type.Ref('Problem', { description: descriptions[status] ?? 'Error' }),
    ]),
  );
}

/** Answers 200 with no body at all (the typed reply would insist on a payload). */
export function sendEmpty(reply: { code(status: number): unknown }): FastifyReply {
  return (reply.code(200) as FastifyReply).send();
}
