import { type Static, Type } from '@sinclair/typebox';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** One validation failure: the field (body property or query parameter) and what is wrong with it. */
export const FieldError = Type.Object({
  field: Type.String({
    maxLength: 300,
    description: 'The body field or query parameter, e.g. "email" or "pageSize".',
  }),
  message: Type.String({ maxLength: 500 }),
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
      Type.Array(FieldError, { maxItems: 100, description: 'One entry per invalid field.' }),
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

/** The one error type of the service: a stable code, an HTTP status and a message safe to show the caller. */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }

  toProblem(requestId: string): Problem {
    return problemBody(this.status, this.code, this.detail, requestId, this.errors);
  }
}

export function problemBody(
  status: number,
  code: string,
  detail: string,
  requestId: string,
  errors?: FieldError[],
): Problem {
  return {
    type: `urn:salesreps:problem:${code}`,
    title: titles[status] ?? 'Error',
    status,
    detail,
    requestId,
    ...(errors ? { errors } : {}),
  };
}

export const badRequest = (detail: string, errors?: FieldError[]) =>
  new ProblemError(400, 'validation', detail, errors);
export const unauthorized = (detail: string) =>
  new ProblemError(401, 'unauthorized', detail, undefined, { 'www-authenticate': 'Bearer' });
export const forbidden = (detail: string) => new ProblemError(403, 'forbidden', detail);
export const notFound = (detail: string) => new ProblemError(404, 'not-found', detail);
export const conflict = (code: string, detail: string) => new ProblemError(409, code, detail);
