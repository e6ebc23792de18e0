import { type Kysely, sql } from 'kysely';
import { searchKey } from '../../kernel/search.js';

/** Rows whose search keys the backfill computes in the service's code per statement. */
const BACKFILL_BATCH = 1000;

/** A table's stored search keys: the key columns and the text each is the key of. */
interface StoredKeys {
  table: 'organization_sales_rep' | 'customer';
  keys: readonly { key: string; of: string }[];
}

const STORED_KEYS: readonly StoredKeys[] = [
  {
    table: 'organization_sales_rep',
    keys: [
      { key: 'first_name_search', of: 'first_name' },
      { key: 'last_name_search', of: 'last_name' },
    ],
  },
  { table: 'customer', keys: [{ key: 'company_name_search', of: 'company_name' }] },
];

// The search finds its text anywhere in a field, in any letter case and with or without accents (docs/api.md,
// docs/decisions/0046-substring-search-through-trigrams.md). The stored keys of the names are now folded as the
// service folds them (src/kernel/search.ts): lower-cased and stripped of accents. ASCII text already has that key
// (migrations 0002 and 0011 stored lower()), so only the others are recomputed, in batches through the service's
// own folding. The email, rep number and customer number are ASCII by validation: lower() is their key.
//
// A trigram index (pg_trgm) on all of a row's keys, led by the organization (btree_gin), finds the rows a search of
// three letters or digits in a row can match, within the organization; the statements check each field. The prefix
// indexes of migrations 0002 and 0011 stay: a search of one or two characters still matches the start of a field.
// Both extensions are trusted (a role with CREATE on the database creates them); PGlite loads them
// (src/db/database.ts).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`set local statement_timeout = 0`.execute(db);
  await sql`create extension if not exists pg_trgm`.execute(db);
  await sql`create extension if not exists btree_gin`.execute(db);
  for (const { table, keys } of STORED_KEYS) await refold(db, table, keys);

  await sql`create index organization_sales_rep_search_trigrams on organization_sales_rep using gin (
    organization_id,
    (first_name_search || ' ' || last_name_search || ' ' || lower(email) || ' ' || lower(rep_number)) gin_trgm_ops
  )`.execute(db);
  await sql`create index customer_search_trigrams on customer using gin (
    organization_id, (company_name_search || ' ' || lower(customer_number)) gin_trgm_ops
  )`.execute(db);
}

/** Recomputes a table's search keys of non-ASCII text, a batch of rows per statement, in id order. */
async function refold(db: Kysely<unknown>, table: string, keys: StoredKeys['keys']): Promise<void> {
  const notAscii = sql.join(
    keys.map(({ of }) => sql`${sql.ref(of)} !~ '^[ -~]*$'`),
    sql` or `,
  );
  let after = '';
  for (;;) {
    const { rows } = await sql<Record<string, string>>`
      select id, ${sql.join(keys.map(({ of }) => sql.ref(of)))} from ${sql.table(table)}
      where id > ${after} and (${notAscii})
      order by id limit ${BACKFILL_BATCH}`.execute(db);
    const last = rows.at(-1);
    if (!last) break;
    const columns = keys.map(({ key, of }) => ({ key, values: rows.map((row) => searchKey(row[of] ?? '')) }));
    await sql`
      update ${sql.table(table)} t set ${sql.join(columns.map(({ key }) => sql`${sql.ref(key)} = k.${sql.ref(key)}`))}
      from unnest(
        ${rows.map((row) => row.id)}::text[],
        ${sql.join(columns.map(({ values }) => sql`${values}::text[]`))}
      ) as k (id, ${sql.join(columns.map(({ key }) => sql.ref(key)))})
      where t.id = k.id`.execute(db);
    after = last.id as string;
  }
}

// The keys stay folded: the prefix search of an older release then finds a name's letters without their accents.
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index customer_search_trigrams`.execute(db);
  await sql`drop index organization_sales_rep_search_trigrams`.execute(db);
}
