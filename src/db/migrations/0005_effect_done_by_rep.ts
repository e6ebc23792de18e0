import { type Kysely, sql } from 'kysely';

// Before carrying out a mail or sync effect, the worker asks whether a later effect of the rep and channel is done
// already (effects/queries.ts, laterEffectDone). effect_sales_rep holds only unfinished effects, so that question
// read every done effect recorded after this one, of every tenant; this index answers it from the rep's own.
//
// Kysely runs a migration in one transaction, on connections whose statement_timeout is the service's (5 s): the
// build may take longer on a large effect table, so the limit is lifted for this transaction alone. The build
// blocks writes to `effect` (new changes of replicas still running the older version wait) while it runs.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`set local statement_timeout = 0`.execute(db);
  await sql`create index effect_sales_rep_done on effect (sales_rep_id, id) where status = 'done'`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index effect_sales_rep_done`.execute(db);
}
