import { type Kysely, sql } from 'kysely';

// The audit log: one immutable row per change, written in the transaction of the change (src/events/record.ts).
// `seq` orders events that share an occurred_at (every event of one transaction does); pages are read newest first
// by (occurred_at, seq) from the organization's index, so any page costs a few index pages whatever the depth.
// Each filter has its own (organization, filter, occurred_at, seq) index; a target is matched through the GIN index
// on target_ids (the few events of that one target). event_occurred, a BRIN index (events arrive in time order),
// serves the retention purge: a btree on occurred_at alone would tempt the planner to read every tenant's events
// for one organization's page.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table event (
      id text primary key,
      seq bigint generated always as identity,
      organization_id text not null,
      occurred_at timestamptz not null default now(),
      action text not null,
      actor_type text not null check (actor_type in ('user', 'cli', 'system')),
      actor_id text not null,
      targets jsonb not null,
      target_ids text[] not null,
      request_id text,
      changes jsonb not null
    )`.execute(db);
  await sql`create index event_page on event (organization_id, occurred_at desc, seq desc)`.execute(db);
  await sql`create index event_action on event (organization_id, action, occurred_at desc, seq desc)`.execute(
    db,
  );
  await sql`create index event_actor on event (organization_id, actor_id, occurred_at desc, seq desc)`.execute(
    db,
  );
  await sql`create index event_target on event using gin (target_ids)`.execute(db);
  await sql`create index event_occurred on event using brin (occurred_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table event`.execute(db);
}
