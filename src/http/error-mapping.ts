// The one error mapping: every error a request meets, and every path no route serves, answered as problem+json.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import { IdentityProviderUnavailableError } from '../identity/port.js';
import {
  PROBLEM_CONTENT_TYPE,
  type Problem,
  ProblemError,
  problemBody,
  truncate,
} from '../kernel/problem.js';
import { schemaProblem } from '../kernel/validation.js';
import { ScimError, scimErrorBody, scimErrorOfProblem } from '../scim/errors.js';
import { SCIM_CONTENT_TYPE } from '../scim/schemas.js';

/**
 * Errors become problem+json (an outage's cause is logged, never shown; a 503 carries `Retry-After`); an unknown
 * path is 404, and a known path asked with another method 405 with `Allow`.
 */
export function answerErrorsAsProblems(
  app: FastifyInstance,
  allowedMethods: (path: string) => string[],
): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const problem = toProblem(error, request.id);
    prepareErrorReply(error, problem.status, request, reply);
    return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = pathOf(request.url);
    const allowed = allowedMethods(path);
    if (allowed.length > 0) {
      const detail = `${request.method} is not allowed on ${path}; use ${allowed.join(', ')}.`;
      return reply
        .code(405)
        .header('allow', allowed.join(', '))
        .type(PROBLEM_CONTENT_TYPE)
        .send(problemBody(405, 'method-not-allowed', detail, request.id));
    }
    return reply
      .code(404)
      .type(PROBLEM_CONTENT_TYPE)
      .send(problemBody(404, 'not-found', `No route ${request.method} ${path}.`, request.id));
  });
}
/** What every error answer carries: its cause logged when it is an outage, and the headers it comes with. */
function prepareErrorReply(
  error: FastifyError,
  status: number,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  // The cause of an outage is logged (scrubbed), never shown to the caller.
  if (status >= 500) request.log.error({ err: error }, 'request failed');
  if (error instanceof ProblemError) reply.headers(error.headers);
  if (error instanceof IdentityProviderUnavailableError) {
    reply.header('retry-after', String(error.retryAfterSeconds));
  }
  if (status === 503 && !reply.hasHeader('retry-after')) reply.header('retry-after', '5');
}

/**
 * Errors in a SCIM scope (`/scim/v2`, src/scim/) are SCIM errors (RFC 7644 §3.12) as `application/scim+json`: the
 * SCIM unit's own, and every other (authentication, the rate limit, an unreadable or too large body, an outage) with
 * the status and detail the problem would have. Its unknown paths are SCIM 404s, a known path asked with another
 * method a SCIM 405 with `Allow`.
 */
export function answerErrorsAsScim(scope: FastifyInstance, allowedMethods: (path: string) => string[]): void {
  scope.setErrorHandler((error: FastifyError, request, reply) => {
    const body =
      error instanceof ScimError
        ? scimErrorBody(error.status, error.scimType, error.detail)
        : scimErrorOfProblem(toProblem(error, request.id));
    const status = Number(body.status);
    prepareErrorReply(error, status, request, reply);
    return reply.code(status).type(SCIM_CONTENT_TYPE).send(body);
  });

  scope.setNotFoundHandler((request, reply) => {
    const path = pathOf(request.url);
    const allowed = allowedMethods(path);
    if (allowed.length > 0) {
      return reply
        .code(405)
        .header('allow', allowed.join(', '))
        .type(SCIM_CONTENT_TYPE)
        .send(scimErrorBody(405, undefined, `${request.method} is not allowed on ${path}.`));
    }
    return reply
      .code(404)
      .type(SCIM_CONTENT_TYPE)
      .send(scimErrorBody(404, undefined, `No SCIM endpoint ${request.method} ${path}.`));
  });
}

/** The path of a request target, without the scheme and host of an absolute-form one or the query; cut short. */
function pathOf(target: string): string {
  const path = target.replace(/^[a-z][a-z\d+.-]*:\/\/[^/?#]*/i, '').split('?')[0] || '/';
  return truncate(path, 200);
}

function toProblem(error: FastifyError, requestId: string): Problem {
  if (error instanceof ProblemError) return error.toProblem(requestId);
  if (error instanceof IdentityProviderUnavailableError) {
    return problemBody(
      503,
      'identity-provider-unavailable',
      'The identity provider did not answer; nothing was changed. Try again shortly.',
      requestId,
    );
  }
  if (isDatabaseUnavailable(error)) {
    return problemBody(
      503,
      'database-unavailable',
      'The database is not reachable; try again shortly.',
      requestId,
    );
  }
  if (error.validation) {
    return schemaProblem(error.validation, error.validationContext ?? 'body').toProblem(requestId);
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problemBody(413, 'body-too-large', 'The request body is too large.', requestId);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return problemBody(
        415,
        'unsupported-media-type',
        'The request body must be application/json.',
        requestId,
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return problemBody(
        400,
        'validation',
        'The request body is empty; a JSON object is expected.',
        requestId,
        [{ field: 'body', message: 'is required' }],
      );
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return problemBody(400, 'malformed-json', 'The request body is not valid JSON.', requestId, [
        { field: 'body', message: 'is not valid JSON' },
      ]);
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    if (error instanceof SyntaxError) {
      return problemBody(400, 'malformed-json', 'The request body is not valid JSON.', requestId, [
        { field: 'body', message: 'is not valid JSON' },
      ]);
    }
    return problemBody(status, 'client-error', error.message, requestId);
  }
  return problemBody(
    500,
    'internal',
    'An unexpected error occurred; the request id identifies it in the logs.',
    requestId,
  );
}
