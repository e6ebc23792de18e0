// SCIM errors (RFC 7644 §3.12): the error type of the SCIM unit, and any other error of the service as one.
import { truncate } from '../kernel/problem.js';
import { SCIM_SCHEMA, type ScimErrorBody } from './schemas.js';

/** The `scimType` values this service answers with (RFC 7644 §3.12, table 9). */
export type ScimType =
  | 'invalidFilter'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue';

/** What a SCIM request did wrong, as the directory is told it. */
export class ScimError extends Error {
  constructor(
    readonly status: number,
    readonly scimType: ScimType | undefined,
    readonly detail: string,
  ) {
    super(detail);
  }
}

export const invalidValue = (detail: string) => new ScimError(400, 'invalidValue', detail);
export const invalidFilter = (detail: string) => new ScimError(400, 'invalidFilter', detail);
export const invalidPath = (detail: string) => new ScimError(400, 'invalidPath', detail);
export const noTarget = (detail: string) => new ScimError(400, 'noTarget', detail);
export const mutability = (detail: string) => new ScimError(400, 'mutability', detail);
export const userNotFound = () => new ScimError(404, undefined, 'No User with that id in this organization.');

export function scimErrorBody(status: number, scimType: ScimType | undefined, detail: string): ScimErrorBody {
  return {
    schemas: [SCIM_SCHEMA.error],
    status: String(status),
    ...(scimType ? { scimType } : {}),
    detail: truncate(detail, 500),
  };
}

/** The scimType of a problem code of the service's use-cases and edge (`src/kernel/problem.ts`). */
const SCIM_TYPE_OF_PROBLEM: Record<string, ScimType> = {
  validation: 'invalidValue',
  'malformed-json': 'invalidSyntax',
  'already-assigned': 'uniqueness',
  'rep-number-taken': 'uniqueness',
};

/**
 * Any error of the service, as the one mapping (src/http/) made it a problem, re-said as a SCIM error: the same
 * status and detail, and a `scimType` where RFC 7644 has one.
 */
export function scimErrorOfProblem(problem: {
  status: number;
  type: string;
  detail?: string | undefined;
}): ScimErrorBody {
  const code = problem.type.slice(problem.type.lastIndexOf(':') + 1);
  return scimErrorBody(problem.status, SCIM_TYPE_OF_PROBLEM[code], problem.detail ?? '');
}
