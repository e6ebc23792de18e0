import { type Kysely, sql } from 'kysely';

// Text columns that are sorted or compared byte-wise use the "C" collation, so that the embedded database
// and every PostgreSQL server order them the same way whatever their locale.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table organization (
      id text primary key,
      name text not null,
      identity_organization_id text not null unique,
      created_at timestamptz not null default now()
    )`.execute(db);

  await sql`
    create table sales_rep (
      id text primary key,
      email text not null,
      first_name text not null,
      last_name text not null,
      phone_number text,
      identity_provider_user_id text not null unique,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`create unique index sales_rep_email_key on sales_rep (lower(email))`.execute(db);

  await sql`
    create table organization_sales_rep (
      id text primary key,
      organization_id text not null references organization (id),
      sales_rep_id text not null references sales_rep (id),
      rep_number text collate "C" not null,
      active boolean not null default true,
      roles text[] not null,
      first_name text collate "C" not null,
      last_name text collate "C" not null,
      email text collate "C" not null,
      phone_number text collate "C",
      created_at timestamptz not null default now(),
      constraint organization_sales_rep_rep_number_key unique (organization_id, rep_number),
      constraint organization_sales_rep_assignment_key unique (organization_id, sales_rep_id)
    )`.execute(db);
  await sql`create index organization_sales_rep_sales_rep on organization_sales_rep (sales_rep_id)`.execute(
    db,
  );
  // One index per sort order of the admin's list; the id breaks ties so that pages never overlap.
  for (const column of ['first_name', 'last_name', 'email', 'phone_number', 'active']) {
    await sql`create index ${sql.id(`organization_sales_rep_by_${column}`)}
      on organization_sales_rep (organization_id, ${sql.id(column)}, id)`.execute(db);
  }

  await sql`
    create table effect (
      id bigint generated always as identity primary key,
      organization_id text not null,
      sales_rep_id text not null,
      kind text not null,
      payload jsonb not null,
      status text not null default 'pending' check (status in ('pending', 'done', 'dead')),
      attempts integer not null default 0,
      next_attempt_at timestamptz not null default now(),
      last_error text,
      created_at timestamptz not null default now(),
      finished_at timestamptz
    )`.execute(db);
  await sql`create index effect_due on effect (next_attempt_at, id) where status = 'pending'`.execute(db);
  await sql`create index effect_organization on effect (organization_id, status, id)`.execute(db);
  await sql`create index effect_sales_rep on effect (sales_rep_id, id) where status <> 'done'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['effect', 'organization_sales_rep', 'sales_rep', 'organization']) {
    await sql`drop table ${sql.id(table)}`.execute(db);
  }
}
