import { type Kysely, sql } from 'kysely';

// Event webhooks (src/webhooks/): an organization's subscriptions and the log of their delivery attempts. The
// deliveries themselves are effects of the outbox (kind webhook.deliver, keyed `webhook:<subscription id>:<target>`
// in its sales_rep_id column so that a thing's deliveries to one subscription run in order), recorded with the event
// (src/events/record.ts).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table webhook_subscription (
      id text primary key,
      organization_id text not null,
      url text not null,
      event_types text[],
      secret text not null,
      previous_secret text,
      previous_secret_until timestamptz,
      enabled boolean not null default true,
      disabled_reason text,
      failing_since timestamptz,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index webhook_subscription_organization on webhook_subscription (organization_id, created_at, id)`.execute(
    db,
  );
  await sql`
    create table webhook_delivery (
      id bigint generated always as identity primary key,
      subscription_id text not null references webhook_subscription (id) on delete cascade,
      event_id text not null,
      attempted_at timestamptz not null default now(),
      status_code integer,
      outcome text not null,
      error text,
      latency_ms integer not null
    )`.execute(db);
  await sql`create index webhook_delivery_subscription on webhook_delivery (subscription_id, id desc)`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table webhook_delivery`.execute(db);
  await sql`drop table webhook_subscription`.execute(db);
}
