// The `/Users` filter: the part of RFC 7644 §3.4.2.2 directories send, parsed into equality terms joined by `and`.
import { invalidFilter } from './errors.js';

/** One `attribute eq "value"` term, by the attribute it compares. */
export interface FilterTerm {
  /** `email`: userName and the work (or any) email, compared in any letter case; `externalId` exactly. */
  attribute: 'email' | 'externalId';
  value: string;
}

/** The most terms one filter may join. */
const MAX_TERMS = 10;

/** The attribute paths a filter may compare, lower-cased (attribute names are case-insensitive, RFC 7643 §2.1). */
const ATTRIBUTES: Record<string, FilterTerm['attribute']> = {
  username: 'email',
  externalid: 'externalId',
  'emails.value': 'email',
  'emails[type eq "work"].value': 'email',
  'emails[primary eq true].value': 'email',
  'urn:ietf:params:scim:schemas:core:2.0:user:username': 'email',
  'urn:ietf:params:scim:schemas:core:2.0:user:externalid': 'externalId',
};

// A term: an attribute path (with at most one bracketed value filter), `eq` and a JSON string.
const TERM =
  /^\s*([A-Za-z][\w:.-]*(?:\[\s*\w+\s+eq\s+(?:"[^"]*"|true|false)\s*\](?:\.\w+)?)?)\s+(\w+)\s+("(?:[^"\\]|\\.)*"|\S+)\s*/i;

/** The attribute path as the table above spells it: lower case, single spaces inside brackets. */
function normalPath(path: string): string {
  return path
    .replace(
      /\[\s*(\w+)\s+(\w+)\s+/,
      (_match, attribute: string, operator: string) => `[${attribute} ${operator} `,
    )
    .replace(/\s*\]/, ']')
    .toLowerCase();
}

/**
 * Parses a filter of `eq` terms joined by `and` (in any letter case). Anything else — another operator, `or`,
 * `not`, parentheses, an attribute not listed above — is refused with `invalidFilter`, never ignored.
 */
export function parseFilter(filter: string): FilterTerm[] {
  const terms: FilterTerm[] = [];
  let rest = filter;
  for (;;) {
    const match = TERM.exec(rest);
    if (!match) throw invalidFilter('The filter is not of the supported form: attribute eq "value" [and …].');
    const [whole, path = '', operator = '', literal = ''] = match;
    const attribute = ATTRIBUTES[normalPath(path)];
    if (!attribute) {
      throw invalidFilter(
        `Filtering by "${path}" is not supported; use userName, externalId or emails[type eq "work"].value.`,
      );
    }
    if (operator.toLowerCase() !== 'eq') {
      throw invalidFilter(`The operator "${operator}" is not supported; only eq is.`);
    }
    terms.push({ attribute, value: stringLiteral(literal) });
    if (terms.length > MAX_TERMS) throw invalidFilter(`A filter joins at most ${MAX_TERMS} terms.`);
    rest = rest.slice(whole.length);
    if (rest.trim() === '') return terms;
    const joiner = /^and\s+/i.exec(rest);
    if (!joiner) throw invalidFilter('Terms of a filter may only be joined with "and".');
    rest = rest.slice(joiner[0].length);
  }
}

function stringLiteral(literal: string): string {
  if (!literal.startsWith('"'))
    throw invalidFilter(`The value ${literal} must be a string in double quotes.`);
  try {
    return JSON.parse(literal) as string;
  } catch {
    throw invalidFilter(`The value ${literal} is not a valid JSON string.`);
  }
}
