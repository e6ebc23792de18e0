import { type Kysely, sql } from 'kysely';
import { searchKey } from '../../kernel/search.js';

/** Assignments whose search keys the backfill computes in the service's code per statement. */
const BACKFILL_BATCH = 1000;

// The admin's search of its reps (docs/api.md): a case-insensitive prefix of the first name, last name, email or rep
// number, all four the assignment's own (what this organization says of the person, migration 0006). As for
// customers (migration 0002), the names get stored keys that the service lower-cases (src/kernel/search.ts) and
// the email and rep number, ASCII by validation, an index on lower(): every index leads with organization_id, so a
// search reads only the organization's own entries. The sort indexes also carry the active flag (below).
//
// Existing assignments get their keys here: ASCII names (for which lower() is the key) in one statement, any
// others in batches through the service's own lower-casing. Not backward compatible for writes: a replica of an
// older release inserts assignments without the keys, so its PUT fails until it is replaced (docs/deploy.md).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`set local statement_timeout = 0`.execute(db);
  await sql`
    alter table organization_sales_rep
      add column first_name_search text collate "C", add column last_name_search text collate "C"`.execute(
    db,
  );
  await sql`
    update organization_sales_rep
      set first_name_search = lower(first_name), last_name_search = lower(last_name)
      where first_name ~ '^[ -~]*$' and last_name ~ '^[ -~]*$'`.execute(db);
  let after = '';
  for (;;) {
    const { rows } = await sql<{ id: string; first_name: string; last_name: string }>`
      select id, first_name, last_name from organization_sales_rep
      where id > ${after} and first_name_search is null
      order by id limit ${BACKFILL_BATCH}`.execute(db);
    const last = rows.at(-1);
    if (!last) break;
    await sql`
      update organization_sales_rep a set first_name_search = k.first_name, last_name_search = k.last_name
      from unnest(
        ${rows.map((row) => row.id)}::text[],
        ${rows.map((row) => searchKey(row.first_name))}::text[],
        ${rows.map((row) => searchKey(row.last_name))}::text[]
      ) as k (id, first_name, last_name)
      where a.id = k.id`.execute(db);
    after = last.id;
  }
  await sql`
    alter table organization_sales_rep
      alter column first_name_search set not null, alter column last_name_search set not null`.execute(db);

  // Each search index carries every column a page sorts or filters by, and the other fields' search keys, so that
  // the matches of a search, and their number, are read from the indexes alone (src/salesreps/listing/).
  const listed = sql`id, rep_number, first_name, last_name, email, phone_number, active`;
  await sql`create index organization_sales_rep_search_first_name
    on organization_sales_rep (organization_id, first_name_search) include (${listed}, last_name_search)`.execute(
    db,
  );
  await sql`create index organization_sales_rep_search_last_name
    on organization_sales_rep (organization_id, last_name_search) include (${listed}, first_name_search)`.execute(
    db,
  );
  for (const [name, key] of [
    ['organization_sales_rep_search_email', sql`lower(email)`],
    ['organization_sales_rep_search_rep_number', sql`lower(rep_number)`],
  ] as const) {
    await sql`create index ${sql.id(name)} on organization_sales_rep (organization_id, ${key})
      include (${listed}, first_name_search, last_name_search)`.execute(db);
  }

  // The list's `active` filter in any sort order: each sort index carries the flag, so that a page of active (or
  // deactivated) reps at any depth skips index entries only, never table rows.
  for (const column of ['first_name', 'last_name', 'email']) {
    await sql`drop index ${sql.id(`organization_sales_rep_by_${column}`)}`.execute(db);
    await sql`create index ${sql.id(`organization_sales_rep_by_${column}`)}
      on organization_sales_rep (organization_id, ${sql.id(column)}, id) include (active)`.execute(db);
  }
  await sql`drop index organization_sales_rep_by_phone_number`.execute(db);
  await sql`
    create index organization_sales_rep_by_phone_number on organization_sales_rep
      (organization_id, (phone_number is null), coalesce(phone_number, ''), id) include (phone_number, active)`.execute(
    db,
  );
  await sql`
    alter table organization_sales_rep drop constraint organization_sales_rep_rep_number_key`.execute(db);
  await sql`
    alter table organization_sales_rep add constraint organization_sales_rep_rep_number_key
      unique (organization_id, rep_number) include (id, active)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table organization_sales_rep drop constraint organization_sales_rep_rep_number_key`.execute(db);
  await sql`
    alter table organization_sales_rep add constraint organization_sales_rep_rep_number_key
      unique (organization_id, rep_number) include (id)`.execute(db);
  await sql`drop index organization_sales_rep_by_phone_number`.execute(db);
  await sql`
    create index organization_sales_rep_by_phone_number on organization_sales_rep
      (organization_id, (phone_number is null), coalesce(phone_number, ''), id) include (phone_number)`.execute(
    db,
  );
  for (const column of ['first_name', 'last_name', 'email']) {
    await sql`drop index ${sql.id(`organization_sales_rep_by_${column}`)}`.execute(db);
    await sql`create index ${sql.id(`organization_sales_rep_by_${column}`)}
      on organization_sales_rep (organization_id, ${sql.id(column)}, id)`.execute(db);
  }
  await sql`drop index organization_sales_rep_search_rep_number`.execute(db);
  await sql`drop index organization_sales_rep_search_email`.execute(db);
  await sql`
    alter table organization_sales_rep drop column first_name_search, drop column last_name_search`.execute(
    db,
  );
}
