import { type Kysely, sql } from 'kysely';

// SCIM 2.0 provisioning (src/scim/, docs/scim.md): an organization's SCIM tokens, kept only as the SHA-256 of the
// secret; the directory's own id of each user (`externalId`) on the assignment, which the directory filters by;
// the time an assignment last changed (SCIM's `meta.lastModified`), set by a trigger on every update so that every
// use-case keeps it without knowing of it (null until the first change: the creation time stands for it); and
// `scim` as an actor of the audit log. Adding nullable columns rewrites no row.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table scim_token (
      id text primary key,
      organization_id text not null references organization (id) on delete cascade,
      description text,
      token_hash text not null unique,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index scim_token_organization on scim_token (organization_id, created_at, id)`.execute(db);
  await sql`
    alter table organization_sales_rep add column external_id text, add column updated_at timestamptz`.execute(
    db,
  );
  await sql`
    create index organization_sales_rep_external_id on organization_sales_rep (organization_id, external_id)
      where external_id is not null`.execute(db);
  await sql`
    create function organization_sales_rep_touch() returns trigger language plpgsql as $$
    begin
      new.updated_at := now();
      return new;
    end $$`.execute(db);
  await sql`
    create trigger organization_sales_rep_touch before update on organization_sales_rep
      for each row execute function organization_sales_rep_touch()`.execute(db);
  await sql`alter table event drop constraint event_actor_type_check`.execute(db);
  await sql`
    alter table event add constraint event_actor_type_check
      check (actor_type in ('user', 'cli', 'system', 'scim'))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from event where actor_type = 'scim'`.execute(db);
  await sql`alter table event drop constraint event_actor_type_check`.execute(db);
  await sql`
    alter table event add constraint event_actor_type_check
      check (actor_type in ('user', 'cli', 'system'))`.execute(db);
  await sql`drop trigger organization_sales_rep_touch on organization_sales_rep`.execute(db);
  await sql`drop function organization_sales_rep_touch()`.execute(db);
  await sql`drop index organization_sales_rep_external_id`.execute(db);
  await sql`alter table organization_sales_rep drop column external_id, drop column updated_at`.execute(db);
  await sql`drop table scim_token`.execute(db);
}
