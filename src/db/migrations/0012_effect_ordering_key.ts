import { type Kysely, sql } from 'kysely';

/** Effect ids the backfill rewrites per statement: the client cancels any statement that runs past its time-out. */
const BACKFILL_BATCH = 10_000n;

// The outbox says what its columns mean. Until now `sales_rep_id` was also the key that orders effects — a rep's
// id, `account:<id>` for a person's sign-in mails, `webhook:<subscription>:<target>` for an event's deliveries —
// and the channel was derived from the kind in every query. Now `ordering_key` and `channel` say both, and
// `sales_rep_id` names the rep an effect is about, or is null (a sign-in mail, an event delivery). The indexes
// that found a key's unfinished and done effects lead with the key and channel instead.
//
// Existing rows, pending ones included, are carried over: the key is the old `sales_rep_id`, the channel the
// kind's prefix, a range of ids per statement. The migration blocks writes to `effect` while it runs, and lifts
// the server's statement timeout for its transaction (as 0005 does). Not backward compatible for writes: a replica of an older release inserts effects
// without key and channel, so its changes fail until it is replaced (docs/deploy.md).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`set local statement_timeout = 0`.execute(db);
  await sql`
    alter table effect
      add column ordering_key text, add column channel text, alter column sales_rep_id drop not null`.execute(
    db,
  );
  const { rows } = await sql<{ first: string | null; last: string | null }>`
    select min(id)::text as first, max(id)::text as last from effect`.execute(db);
  const [first, last] = [rows[0]?.first, rows[0]?.last];
  if (first != null && last != null) {
    for (let from = BigInt(first); from <= BigInt(last); from += BACKFILL_BATCH) {
      await sql`
        update effect set
          ordering_key = sales_rep_id,
          channel = split_part(kind, '.', 1),
          sales_rep_id = case
            when kind = 'webhook.deliver' or sales_rep_id like 'account:%' then null else sales_rep_id end
        where id >= ${from.toString()}::bigint and id < ${(from + BACKFILL_BATCH).toString()}::bigint`.execute(
        db,
      );
    }
  }
  await sql`alter table effect alter column ordering_key set not null, alter column channel set not null`.execute(
    db,
  );
  await sql`drop index effect_sales_rep`.execute(db);
  await sql`drop index effect_sales_rep_done`.execute(db);
  await sql`create index effect_ordering_key on effect (ordering_key, channel, id) where status <> 'done'`.execute(
    db,
  );
  await sql`create index effect_ordering_key_done on effect (ordering_key, channel, id) where status = 'done'`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`set local statement_timeout = 0`.execute(db);
  await sql`update effect set sales_rep_id = ordering_key`.execute(db);
  await sql`drop index effect_ordering_key`.execute(db);
  await sql`drop index effect_ordering_key_done`.execute(db);
  await sql`
    alter table effect
      drop column ordering_key, drop column channel, alter column sales_rep_id set not null`.execute(db);
  await sql`create index effect_sales_rep on effect (sales_rep_id, id) where status <> 'done'`.execute(db);
  await sql`create index effect_sales_rep_done on effect (sales_rep_id, id) where status = 'done'`.execute(
    db,
  );
}
