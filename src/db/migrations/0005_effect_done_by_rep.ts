import { type Kysely, sql } from 'kysely';

// Before carrying out a mail or sync effect, the worker asks whether a later effect of the rep and channel is done
// already (effects/queries.ts, laterEffectDone). effect_sales_rep holds only unfinished effects, so that question
// read every done effect recorded after this one, of every tenant; this index answers it from the rep's own.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index effect_sales_rep_done on effect (sales_rep_id, id) where status = 'done'`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index effect_sales_rep_done`.execute(db);
}
