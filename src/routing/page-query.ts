// A list's page and sort as HTTP query parameters: their schema, their reading, their checks, the page headers.
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { badRequest } from '../kernel/problem.js';
import { SORT_DIRECTIONS, type SortDirection } from '../kernel/sort-direction.js';

/** A regular expression that matches exactly one of the words, in any letter case (`lastname`, `LASTNAME`). */
function anyCaseOf(words: readonly string[]): string {
  const anyCase = (word: string) =>
    [...word].map((letter) =>
      /[a-z]/i.test(letter) ? `[${letter.toUpperCase()}${letter.toLowerCase()}]` : letter,
    );
  return `^(?:${words.map((word) => anyCase(word).join('')).join('|')})$`;
}

/**
 * One of the words in any letter case, declared as what is accepted: a string with a pattern (JSON Schema has no
 * case-insensitive enum, and an enum of the canonical spellings would refuse `lastname`), the canonical spellings
 * as examples. `canonicalSortParameters` turns another letter case into the canonical one before the handler.
 */
function wordsInAnyCase(words: readonly string[], description: string, fallback: string) {
  return Type.String({
    pattern: anyCaseOf(words),
    maxLength: Math.max(...words.map((word) => word.length)),
    description,
    default: fallback,
    examples: [...words],
  });
}

/** The paging and sorting parameters every list takes: `pageNumber`, `pageSize`, `sortOn`, `sortDirection`. */
export function pageQueryFields(options: {
  sortFields: readonly string[];
  defaultSort: string;
  maxPageSize: number;
  defaultPageSize: number;
}) {
  return {
    pageNumber: Type.Optional(
      Type.Integer({ format: 'int32', minimum: 1, maximum: 1_000_000_000, default: 1 }),
    ),
    pageSize: Type.Optional(
      Type.Integer({
        format: 'int32',
        minimum: 1,
        maximum: options.maxPageSize,
        default: options.defaultPageSize,
      }),
    ),
    sortOn: Type.Optional(
      wordsInAnyCase(
        options.sortFields,
        `One of ${options.sortFields.join(', ')}; any letter case is accepted (\`lastname\`).`,
        options.defaultSort,
      ),
    ),
    sortDirection: Type.Optional(
      wordsInAnyCase(SORT_DIRECTIONS, 'asc or desc; any letter case is accepted (`DESC`).', 'asc'),
    ),
  };
}

/**
 * A list's `search` parameter: the substring search of kernel/search.ts over the fields `what` names, described
 * alike on every list.
 */
export function searchQueryField(what: string, maxLength: number) {
  return Type.Optional(
    Type.String({
      minLength: 1,
      maxLength,
      description: `${what} holds this text anywhere (one or two characters: at the start), in any letter case, accents or not.`,
    }),
  );
}

/** The page and sort a list query asks for, with the defaults filled in and the sort field spelled canonically. */
export function readPageQuery<Field extends string>(
  query: { pageNumber?: number; pageSize?: number; sortOn?: string; sortDirection?: string },
  sortFields: readonly Field[],
  defaults: { sortOn: Field; pageSize: number },
) {
  const wanted = query.sortOn?.toLowerCase();
  return {
    pageNumber: query.pageNumber ?? 1,
    pageSize: query.pageSize ?? defaults.pageSize,
    sortOn: sortFields.find((field) => field.toLowerCase() === wanted) ?? defaults.sortOn,
    sortDirection: (query.sortDirection?.toLowerCase() === 'desc' ? 'desc' : 'asc') as SortDirection,
  };
}

/**
 * A preValidation hook for list routes: `sortOn` and `sortDirection` in any letter case become their canonical
 * spelling, which the handler and the Link header use. A value that matches no word is left as sent, for the
 * validator to refuse.
 */
export function canonicalSortParameters(sortFields: readonly string[]) {
  const spellings = (words: readonly string[]) => new Map(words.map((word) => [word.toLowerCase(), word]));
  const canonical = { sortOn: spellings(sortFields), sortDirection: spellings(SORT_DIRECTIONS) };
  return async (request: FastifyRequest): Promise<void> => {
    const query = request.query as Record<string, unknown>;
    for (const [name, words] of Object.entries(canonical)) {
      const value = query[name];
      if (typeof value === 'string') query[name] = words.get(value.toLowerCase()) ?? value;
    }
  };
}

/**
 * A preValidation hook for list routes: the query validator coerces "1e1", "0x2" or " 2" to numbers, while page
 * numbers and sizes are plain decimal digits only.
 */
export async function requireDecimalPageParameters(request: FastifyRequest): Promise<void> {
  const query = request.query as Record<string, unknown>;
  const errors = ['pageNumber', 'pageSize']
    .filter((name) => typeof query[name] === 'string' && !/^[0-9]+$/.test(query[name] as string))
    .map((field) => ({ field, message: 'must be an integer written in decimal digits' }));
  if (errors.length > 0) {
    throw badRequest(
      `The request querystring is not valid: ${errors.map((error) => error.field).join(', ')}.`,
      errors,
    );
  }
}

/** What the Link and X-Total-Count headers of a page are made from. */
export interface PageFacts {
  total: number;
  pageNumber: number;
  pageSize: number;
  sortOn: string;
  sortDirection: string;
  /** Query parameters that chose the rows (e.g. a search); every link keeps those that were given. */
  filters?: Record<string, string | undefined>;
}

/**
 * `X-Total-Count`, and a `Link` header (RFC 8288) with `first` and `last` always and `prev` and `next` where such
 * a page exists. Links are relative, made of the route's path and the page facts only, never of the request
 * target (an absolute-form target, `GET http://evil.example/api/…`, would put another host in them); they keep the
 * sort and filters.
 */
export function paginationHeaders(request: FastifyRequest, page: PageFacts): Record<string, string> {
  const path = request.routeOptions.url ?? '/';
  const lastPage = Math.max(1, Math.ceil(page.total / page.pageSize));
  // Every link differs only in its page number: the rest of its query is encoded once.
  const rest = new URLSearchParams({
    pageSize: String(page.pageSize),
    sortOn: page.sortOn,
    sortDirection: page.sortDirection,
  });
  for (const [name, value] of Object.entries(page.filters ?? {})) {
    if (value !== undefined) rest.set(name, value);
  }
  const tail = rest.toString();
  const link = (pageNumber: number, rel: string) =>
    `<${path}?pageNumber=${pageNumber}&${tail}>; rel="${rel}"`;
  const links = [link(1, 'first')];
  if (page.pageNumber > 1) links.push(link(Math.min(page.pageNumber - 1, lastPage), 'prev'));
  if (page.pageNumber < lastPage) links.push(link(page.pageNumber + 1, 'next'));
  links.push(link(lastPage, 'last'));
  return { 'x-total-count': String(page.total), link: links.join(', ') };
}
