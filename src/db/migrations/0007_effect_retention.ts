import { type Kysely, sql } from 'kysely';

// Effects that are over (done or dead) are deleted once older than their retention (effects/retention.ts). This
// index finds the oldest of them in a few pages, whatever the table holds; the claim never reads it (it reads the
// pending effects' indexes). Like 0005, the build blocks writes to `effect` while it runs.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`set local statement_timeout = 0`.execute(db);
  await sql`create index effect_finished on effect (status, finished_at) where status in ('done', 'dead')`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index effect_finished`.execute(db);
}
