import { type Kysely, sql } from 'kysely';

// The admin's list of a large organization, made cheap at any depth (docs/performance.md):
// - `organization_assignment_count` holds each organization's number of assignments (X-Total-Count in one
//   primary-key read) and a version that grows with every change to the set or the order of its assignments.
//   Triggers keep both in the transaction of the change, whatever code makes it; statement-level triggers with
//   transition tables do it once per statement, so a bulk load pays one update per organization.
// - The version tells when the list's cached page boundaries (salesreps/queries.ts) are still exact.
// - Sort keys are never NULL in an index used to seek: the phone number sorts as (is null, coalesce(...), id),
//   which is the order of `phone_number nulls last, id`, and seeking by a row comparison works in the NULL part.
// - The rep number index includes the id, so the id-only scan of a deep page never touches the table.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table organization_assignment_count (
      organization_id text primary key references organization (id) on delete cascade,
      assignment_count integer not null check (assignment_count >= 0),
      version bigint not null
    )`.execute(db);
  await sql`
    insert into organization_assignment_count (organization_id, assignment_count, version)
    select organization_id, count(*), 1 from organization_sales_rep group by organization_id`.execute(db);

  await sql`
    create function organization_assignment_count_inserted() returns trigger language plpgsql as $$
    begin
      insert into organization_assignment_count as c (organization_id, assignment_count, version)
      select organization_id, count(*), 1 from inserted_assignment group by organization_id
      on conflict (organization_id) do update
        set assignment_count = c.assignment_count + excluded.assignment_count, version = c.version + 1;
      return null;
    end $$`.execute(db);
  await sql`
    create trigger organization_assignment_count_inserted
      after insert on organization_sales_rep referencing new table as inserted_assignment
      for each statement execute function organization_assignment_count_inserted()`.execute(db);

  await sql`
    create function organization_assignment_count_deleted() returns trigger language plpgsql as $$
    begin
      update organization_assignment_count c
        set assignment_count = c.assignment_count - d.removed, version = c.version + 1
        from (select organization_id, count(*) as removed from deleted_assignment group by organization_id) d
        where c.organization_id = d.organization_id;
      return null;
    end $$`.execute(db);
  await sql`
    create trigger organization_assignment_count_deleted
      after delete on organization_sales_rep referencing old table as deleted_assignment
      for each statement execute function organization_assignment_count_deleted()`.execute(db);

  // Transition tables cannot go with a column list, so an update that moves a row in some order is counted
  // row by row (the service changes one assignment at a time).
  await sql`
    create function organization_assignment_order_changed() returns trigger language plpgsql as $$
    begin
      update organization_assignment_count set version = version + 1
        where organization_id = new.organization_id;
      return null;
    end $$`.execute(db);
  await sql`
    create trigger organization_assignment_order_changed
      after update of rep_number, active, first_name, last_name, email, phone_number
      on organization_sales_rep for each row
      when (old is distinct from new)
      execute function organization_assignment_order_changed()`.execute(db);

  await sql`drop index organization_sales_rep_by_phone_number`.execute(db);
  await sql`
    create index organization_sales_rep_by_phone_number on organization_sales_rep
      (organization_id, (phone_number is null), coalesce(phone_number, ''), id) include (phone_number)`.execute(
    db,
  );
  await sql`
    alter table organization_sales_rep drop constraint organization_sales_rep_rep_number_key`.execute(db);
  await sql`
    alter table organization_sales_rep add constraint organization_sales_rep_rep_number_key
      unique (organization_id, rep_number) include (id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table organization_sales_rep drop constraint organization_sales_rep_rep_number_key`.execute(db);
  await sql`
    alter table organization_sales_rep add constraint organization_sales_rep_rep_number_key
      unique (organization_id, rep_number)`.execute(db);
  await sql`drop index organization_sales_rep_by_phone_number`.execute(db);
  await sql`
    create index organization_sales_rep_by_phone_number
      on organization_sales_rep (organization_id, phone_number, id)`.execute(db);
  await sql`drop trigger organization_assignment_order_changed on organization_sales_rep`.execute(db);
  await sql`drop function organization_assignment_order_changed()`.execute(db);
  await sql`drop trigger organization_assignment_count_deleted on organization_sales_rep`.execute(db);
  await sql`drop function organization_assignment_count_deleted()`.execute(db);
  await sql`drop trigger organization_assignment_count_inserted on organization_sales_rep`.execute(db);
  await sql`drop function organization_assignment_count_inserted()`.execute(db);
  await sql`drop table organization_assignment_count`.execute(db);
}
