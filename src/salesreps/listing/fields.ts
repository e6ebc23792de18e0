// The list's sort fields as one table: each field's sort key and, for the fields a search compares, its search key.
import { type RawBuilder, sql } from 'kysely';
import type { SortDirection } from '../../kernel/sort-direction.js';
import type { SortField } from '../schemas.js';

interface FieldDescriptor {
  /**
   * The sort key, most significant first, matching one index (migrations 0001, 0004). The id ends every key but
   * the rep number's (unique in an organization), so that no two rows tie and pages never overlap.
   */
  sortKey: readonly RawBuilder<unknown>[];
  /** The key a search's pattern is compared with (src/kernel/search.ts), part of SEARCH_KEYS. */
  searchKey?: RawBuilder<unknown>;
  /** The SQL type of the sort key's first part: what a walk's seek to the first match compares (walkFrom). */
  leadType: 'text' | 'boolean';
}

/**
 * Every sort field, the searched ones first in the order a prefix search's scans take them: a match is taken by the
 * first field it matches by (SEARCHED_FIELDS).
 *
 * The phone number sorts as `phone_number nulls last, id` (first in descending order), spelled so that no part of
 * the key is NULL: a row comparison with the key then seeks anywhere, NULL part included.
 */
export const FIELDS: Readonly<Record<SortField, FieldDescriptor>> = {
  FirstName: { sortKey: [sql`first_name`, sql`id`], searchKey: sql`first_name_search`, leadType: 'text' },
  LastName: { sortKey: [sql`last_name`, sql`id`], searchKey: sql`last_name_search`, leadType: 'text' },
  Email: { sortKey: [sql`email`, sql`id`], searchKey: sql`lower(email)`, leadType: 'text' },
  RepNumber: { sortKey: [sql`rep_number`], searchKey: sql`lower(rep_number)`, leadType: 'text' },
  PhoneNumber: {
    sortKey: [sql`(phone_number is null)`, sql`coalesce(phone_number, '')`, sql`id`],
    leadType: 'boolean',
  },
  Active: { sortKey: [sql`active`, sql`id`], leadType: 'boolean' },
};

/** Every sort field, in the order a count gives the first and last lead key of the matches (CountRow.ends). */
export const SORT_FIELDS = Object.keys(FIELDS) as SortField[];

/** The first part of a field's sort key: what a walk seeks its first match by. */
export function leadKey(sortOn: SortField): RawBuilder<unknown> {
  return FIELDS[sortOn].sortKey[0] as RawBuilder<unknown>;
}

interface SearchedField {
  field: SortField;
  searchKey: RawBuilder<unknown>;
}

/**
 * Every searched field's key in one text, as the trigram index of migration 0021 has it (the same expression, so
 * that the planner matches it): a pattern found in it may be in one field or span two, which the statement checks.
 */
export const SEARCH_KEYS = sql`(first_name_search || ' ' || last_name_search || ' ' || lower(email) || ' ' || lower(rep_number))`;

/** The fields a search compares, in the order a prefix search's scans take them. */
export const SEARCHED_FIELDS: readonly SearchedField[] = Object.entries(FIELDS).flatMap(
  ([field, descriptor]) =>
    descriptor.searchKey ? [{ field: field as SortField, searchKey: descriptor.searchKey }] : [],
);

/** The sort key's parts as columns `k0`, `k1`, ...: what a seek or a sort of selected rows compares. */
export function keyColumns(sortOn: SortField): RawBuilder<unknown>[] {
  return FIELDS[sortOn].sortKey.map((expression, index) => sql`${expression} as ${sql.ref(`k${index}`)}`);
}

/** The sort key's columns `k0`, `k1`, ... of a selection named `table`. */
export function keyReferences(sortOn: SortField, table: string): RawBuilder<unknown> {
  return sql.join(FIELDS[sortOn].sortKey.map((_, index) => sql.ref(`${table}.k${index}`)));
}

/** ORDER BY the sort key: its expressions, or with `table` the key columns of that selection. */
export function orderByKey(sortOn: SortField, direction: SortDirection, table?: string): RawBuilder<unknown> {
  const dir = sql.raw(direction);
  return sql.join(
    FIELDS[sortOn].sortKey.map((expression, index) =>
      table ? sql`${sql.ref(`${table}.k${index}`)} ${dir}` : sql`${expression} ${dir}`,
    ),
  );
}
