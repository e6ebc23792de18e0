// The problem+json error: its schema, its typed codes, ProblemError and the common constructors.
import { type Static, Type } from '@sinclair/typebox';

/** The most entries a problem's `errors` lists; the rest are only counted, in `omittedErrors`. */
export const MAX_LISTED_ERRORS = 100;
/** The longest `detail`, and the longest `field` name of an entry (both may quote what the caller sent). */
const MAX_DETAIL_LENGTH = 500;
const MAX_FIELD_LENGTH = 200;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** One validation failure: the field (body property or query parameter) and what is wrong with it. */
export const FieldError = Type.Object({
  field: Type.String({
    maxLength: 300,
    description: `The body field or query parameter, e.g. "email" or "pageSize" (cut at ${MAX_FIELD_LENGTH} characters).`,
  }),
  message: Type.String({ maxLength: 1000 }),
});
export type FieldError = Static<typeof FieldError>;

/** RFC 9457 problem details: the body of every error response. */
export const Problem = Type.Object(
  {
    type: Type.String({ maxLength: 100, description: 'A stable code, `urn:salesreps:problem:<code>`.' }),
    title: Type.String({ maxLength: 100 }),
    status: Type.Integer({ format: 'int32', minimum: 400, maximum: 599 }),
    detail: Type.Optional(Type.String({ maxLength: 2000 })),
    requestId: Type.Optional(Type.String({ maxLength: 128 })),
    errors: Type.Optional(
      Type.Array(FieldError, { maxItems: MAX_LISTED_ERRORS, description: 'One entry per invalid field.' }),
    ),
    omittedErrors: Type.Optional(
      Type.Integer({
        format: 'int32',
        minimum: 1,
        maximum: 1_000_000,
        description:
          `Errors found but not listed: \`errors\` lists at most ${MAX_LISTED_ERRORS}. A bulk import checks ` +
          'the items after a full list only up to their first error, so for an import this is a lower bound.',
      }),
    ),
  },
  { $id: 'Problem', description: 'application/problem+json (RFC 9457)' },
);
export type Problem = Static<typeof Problem>;

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/**
 * Every problem code the service answers with: the last part of the problem's `type`
 * (`urn:salesreps:problem:<code>`), stable for clients to branch on (`docs/api.md`, "Errors").
 */
export type ProblemCode =
  | 'validation'
  | 'malformed-json'
  | 'bad-url'
  | 'bad-request'
  | 'method-not-allowed'
  | 'missing-host'
  | 'client-error'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'request-timeout'
  | 'already-assigned'
  | 'rep-number-taken'
  | 'reps-taken'
  | 'effect-not-dead'
  | 'rep-inactive'
  | 'password-already-set'
  | 'webhook-limit-reached'
  | 'scim-token-limit-reached'
  | 'sso-domain-taken'
  | 'sso-managed-externally'
  | 'body-too-large'
  | 'uri-too-long'
  | 'unsupported-media-type'
  | 'unsupported-content-encoding'
  | 'rate-limited'
  | 'headers-too-large'
  | 'internal'
  | 'database-unavailable'
  | 'identity-provider-unavailable'
  | 'not-ready';

/** The one error type of the service: a stable code, an HTTP status and a message safe to show the caller. */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly code: ProblemCode,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly headers: Record<string, string> = {},
    /** Errors found beyond `errors` and not listed. */
    readonly omittedErrors = 0,
  ) {
    super(detail);
  }

  toProblem(requestId: string): Problem {
    return problemBody(this.status, this.code, this.detail, requestId, this.errors, this.omittedErrors);
  }
}

/** `text` cut to `max` UTF-16 units, never inside a surrogate pair, with an ellipsis when cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max - 1).replace(/[\uD800-\uDBFF]$/, '')}…`;
}

/**
 * A problem body, bounded whatever it is given: at most MAX_LISTED_ERRORS entries (the rest counted in
 * `omittedErrors`), and `detail` and field names cut, since they may quote the request.
 */
export function problemBody(
  status: number,
  code: ProblemCode,
  detail: string,
  requestId: string,
  errors?: FieldError[],
  omittedErrors = 0,
): Problem {
  const listed = errors
    ?.slice(0, MAX_LISTED_ERRORS)
    .map((entry) => ({ field: truncate(entry.field, MAX_FIELD_LENGTH), message: entry.message }));
  const omitted = omittedErrors + (errors ? errors.length - (listed?.length ?? 0) : 0);
  return {
    type: `urn:salesreps:problem:${code}`,
    title: titles[status] ?? 'Error',
    status,
    detail: truncate(detail, MAX_DETAIL_LENGTH),
    requestId,
    ...(listed ? { errors: listed } : {}),
    ...(omitted > 0 ? { omittedErrors: omitted } : {}),
  };
}

/** "The request body is not valid: a, b, c." naming at most ten fields, and how many more there are. */
export function describeInvalid(what: string, errors: FieldError[], omittedErrors = 0): string {
  const named = errors.slice(0, 10).map((entry) => truncate(entry.field, 50));
  const more = errors.length - named.length + omittedErrors;
  return `${what} is not valid: ${named.join(', ')}${more > 0 ? ` and ${more} more` : ''}.`;
}

export const badRequest = (detail: string, errors?: FieldError[], omittedErrors = 0) =>
  new ProblemError(400, 'validation', detail, errors, {}, omittedErrors);
export const unauthorized = (detail: string) =>
  new ProblemError(401, 'unauthorized', detail, undefined, { 'www-authenticate': 'Bearer' });
export const forbidden = (detail: string) => new ProblemError(403, 'forbidden', detail);
export const notFound = (detail: string) => new ProblemError(404, 'not-found', detail);
export const conflict = (code: ProblemCode, detail: string) => new ProblemError(409, code, detail);
