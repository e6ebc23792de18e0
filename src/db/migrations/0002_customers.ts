import { type Kysely, sql } from 'kysely';

// Every index leads with organization_id (the tenant, and the shard key of a distributed PostgreSQL). A rep's
// list is a range scan of (organization_id, rep_number, sort key, id), so its cost follows the rep's own
// customers, never the size of the organization.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table customer (
      id text primary key,
      organization_id text not null references organization (id),
      customer_number text collate "C" not null,
      company_name text collate "C" not null,
      company_name_search text collate "C" not null,
      company_email text collate "C",
      company_phone text,
      pricing text,
      terms text,
      active boolean not null default true,
      rep_number text collate "C",
      external_id text,
      addresses jsonb not null default '[]',
      contacts jsonb not null default '[]',
      customer_attributes jsonb not null default '{}',
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      constraint customer_number_key unique (organization_id, customer_number)
    )`.execute(db);

  // The admin's list, one index per sort order (the customer number is unique, so it needs no tie-breaker).
  await sql`create index customer_by_company_name on customer (organization_id, company_name, id)`.execute(
    db,
  );
  await sql`create index customer_by_company_email on customer (organization_id, company_email, id)`.execute(
    db,
  );
  // A rep's list (and the admin's repNumber filter or sort), one index per sort order within the rep number.
  await sql`create index customer_by_rep on customer (organization_id, rep_number, id)`.execute(db);
  await sql`create index customer_by_rep_customer_number
    on customer (organization_id, rep_number, customer_number)`.execute(db);
  await sql`create index customer_by_rep_company_name
    on customer (organization_id, rep_number, company_name, id)`.execute(db);
  await sql`create index customer_by_rep_company_email
    on customer (organization_id, rep_number, company_email, id)`.execute(db);
  // The search: a case-insensitive prefix of the customer number or of the company name.
  await sql`create index customer_search_customer_number
    on customer (organization_id, lower(customer_number))`.execute(db);
  await sql`create index customer_search_company_name
    on customer (organization_id, company_name_search)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table customer`.execute(db);
}
