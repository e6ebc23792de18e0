import { type Kysely, sql } from 'kysely';

// What an organization says of a person is its own (docs/api.md, "Tenants and people"): the names and phone live
// only on the assignment, and the person (`sales_rep`) keeps only what identifies it, the email and the identity
// provider user. Every assignment already carries copies of the person's values (made when it was created, never
// changed since); any that differ are given the person's current values before the person's columns go.
//
// Not backward compatible: a replica of an older release reads and writes the dropped columns (docs/deploy.md).
// The update reads every assignment, which may outlast the service's statement_timeout on a large database: the
// limit is lifted for this transaction alone.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`set local statement_timeout = 0`.execute(db);
  await sql`
    update organization_sales_rep a
      set first_name = r.first_name, last_name = r.last_name, email = r.email, phone_number = r.phone_number
      from sales_rep r
      where r.id = a.sales_rep_id
        and (a.first_name, a.last_name, a.email, a.phone_number)
          is distinct from (r.first_name, r.last_name, r.email, r.phone_number)`.execute(db);
  await sql`
    alter table sales_rep drop column first_name, drop column last_name, drop column phone_number`.execute(
    db,
  );
}

// The person's columns come back with the values of its earliest assignment.
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table sales_rep add column first_name text, add column last_name text, add column phone_number text`.execute(
    db,
  );
  await sql`
    update sales_rep r
      set first_name = a.first_name, last_name = a.last_name, phone_number = a.phone_number
      from (
        select distinct on (sales_rep_id) sales_rep_id, first_name, last_name, phone_number
        from organization_sales_rep order by sales_rep_id, created_at, id
      ) a
      where a.sales_rep_id = r.id`.execute(db);
  await sql`
    alter table sales_rep alter column first_name set not null, alter column last_name set not null`.execute(
    db,
  );
}
