/** A problem+json answer of the API (docs/api.md): `type` ends in the problem's code, `errors` name fields. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  requestId?: string;
  errors?: { field: string; message: string }[];
  omittedErrors?: number;
}

export function isProblem(value: unknown): value is Problem {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Problem).status === 'number' &&
    typeof (value as Problem).title === 'string'
  );
}

/** The problem's code, the last part of its type (`urn:salesreps:problem:rep-number-taken`). */
export function problemCode(problem: Problem): string {
  return problem.type.slice(problem.type.lastIndexOf(':') + 1);
}

/** A problem as the console shows it: a failed request raises this, with what the API said. */
export class ApiProblem extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title);
  }
}

/**
 * Which message goes beside which field of a form: the first error of each field the form has; errors of other
 * fields (or of the whole body) go into `other`, so that none is hidden.
 */
export function fieldMessages(
  problem: Problem,
  fields: readonly string[],
): { byField: Record<string, string>; other: string[] } {
  const byField: Record<string, string> = {};
  const other: string[] = [];
  for (const error of problem.errors ?? []) {
    if (fields.includes(error.field)) byField[error.field] ??= error.message;
    else other.push(`${error.field} ${error.message}`);
  }
  return { byField, other };
}

/** A sentence a person understands for the problems a form cannot put beside a field. */
export function plainMessage(problem: Problem): string {
  switch (problemCode(problem)) {
    case 'rep-number-taken':
      return problem.detail ?? 'That rep number is already used in this organization.';
    case 'already-assigned':
      return problem.detail ?? 'This person is already a sales rep of this organization.';
    case 'rate-limited':
      return 'Too many requests just now; wait a moment and try again.';
    case 'database-unavailable':
    case 'identity-provider-unavailable':
      return 'The service cannot reach a system it needs; nothing was changed. Try again shortly.';
    default:
      return problem.detail ?? problem.title;
  }
}
