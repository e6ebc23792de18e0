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
 * Which message goes beside which field of a form, in plain words: the first error of each field the form has
 * (`labels` names them); errors of other fields (or of the whole body) go into `other`, so that none is hidden.
 */
export function fieldMessages(
  problem: Problem,
  labels: Readonly<Record<string, string>>,
): { byField: Record<string, string>; other: string[] } {
  const byField: Record<string, string> = {};
  const other: string[] = [];
  for (const error of problem.errors ?? []) {
    const label = labels[error.field];
    if (label !== undefined) byField[error.field] ??= plainFieldMessage(label, error.message);
    else other.push(plainFieldMessage(labelOf(error.field), error.message));
  }
  return { byField, other };
}

/** A field's name as words: `companyEmail` is "Company email", `[3].repNumber` "Rep number". */
export function labelOf(field: string): string {
  const words = (field.split('.').at(-1) ?? field).replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * A field's error as what to do, in plain words, instead of the schema's rule: "Enter a last name" for an empty
 * one, "Enter an email like name@company.com" for a malformed one. A message of the API's own words (a rule it
 * explains, "must be ...") is kept behind the field's label.
 */
export function plainFieldMessage(label: string, message: string): string {
  const noun = label.toLowerCase();
  const enter = `Enter ${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun}`;
  if (message === 'is required' || /fewer than 1 character/.test(message)) return enter;
  if (/format "email"/.test(message)) return `${enter} like name@company.com`;
  const longest = /more than (\d+) characters?/.exec(message)?.[1];
  if (longest) return `Shorten the ${noun} to ${longest} characters or fewer`;
  if (message === 'has characters or a form that is not allowed') {
    if (/phone/.test(noun)) return `${enter} with at least one digit, like +1 555 555 5555`;
    if (/rep number/.test(noun))
      return `${enter} of letters, digits and punctuation, without spaces at either end`;
    return `${enter} in visible characters, without line breaks`;
  }
  if (message === 'must be boolean') return `Enter true or false for ${noun}`;
  return `${label} ${message}`;
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

/**
 * Why the session ended, for the person rather than the API's words ("The caller is not an active sales rep of
 * this organization"): a 401 that a renewal did not cure, or a 403 (deactivated, removed, or a role taken away).
 */
export function accessEndedReason(status: number): string {
  return status === 401
    ? 'Your session has ended. Sign in again to go on.'
    : 'You no longer have access to this organization: an admin has deactivated or removed you, or changed your role. If you think this is a mistake, ask an admin of the organization.';
}
