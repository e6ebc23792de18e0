import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { type Database, migrateToLatest } from '../../src/db/database.js';
import { claimDueEffects, markEffectsDone } from '../../src/effects/queries.js';
import { databaseKinds, unmigratedDatabases } from '../support/databases.js';

const WEBHOOK_KEY = 'webhook:wh-1:rep-1';

/**
 * Pending effects of every kind as release 0011 wrote them, the ordering key in `sales_rep_id`: a rep's effects of
 * each channel, a person's sign-in mail, and two deliveries of one webhook and thing.
 */
async function recordPendingEffectsAt0011(db: Database['db']): Promise<void> {
  await sql`
    insert into effect (organization_id, sales_rep_id, kind, payload) values
      ('org-a', 'rep-1', 'identity.provision', '{"identityProviderUserId": "user-1"}'),
      ('org-a', 'rep-1', 'email.welcome', '{"to": "ann@example.com"}'),
      ('org-a', 'rep-1', 'sync.grant', '{"salesRepId": "rep-1"}'),
      ('org-a', ${WEBHOOK_KEY}, 'webhook.deliver', '{"eventId": "ev-1", "subscriptionId": "wh-1"}'),
      ('org-a', 'rep-1', 'identity.revokeMembership', '{"identityProviderUserId": "user-1"}'),
      ('org-a', 'rep-1', 'sync.revoke', '{"salesRepId": "rep-1"}'),
      ('org-a', ${WEBHOOK_KEY}, 'webhook.deliver', '{"eventId": "ev-2", "subscriptionId": "wh-1"}'),
      ('', 'account:acc-1', 'email.signinLink', '{"to": "bob@example.com"}')`.execute(db);
}

/** Claims what is free to run, marks it done, and answers the kinds claimed, round by round, until none is left. */
async function claimRounds(db: Database['db']): Promise<string[][]> {
  const rounds: string[][] = [];
  for (;;) {
    const claimed = await claimDueEffects(db, { limit: 50, leaseMs: 60_000, leaseToken: 'migration-test' });
    if (claimed.length === 0) return rounds;
    rounds.push(claimed.map((effect) => `${effect.kind} ${JSON.stringify(effect.payload)}`));
    await markEffectsDone(
      db,
      'migration-test',
      claimed.map((effect) => ({ id: effect.id, outcome: 'done' })),
    );
  }
}

/**
 * Migration 0012 gives the outbox an explicit ordering key and channel: pending effects of an existing database are
 * carried over (the key is the old rep column, the channel the kind's prefix; the rep column keeps only reps), and
 * the claim still runs each key's effects of one channel one at a time, in the order recorded.
 */
describe.each(databaseKinds)('migration 0012 (the outbox ordering key and channel) on %s', (kind) => {
  const openUnmigrated = unmigratedDatabases(kind);

  it('carries pending effects of every kind over with their key and channel, claimed in order after it', async () => {
    const { db, migrator } = await openUnmigrated();
    const before = await migrator.migrateTo('0011_sales_rep_search');
    expect(before.error).toBeUndefined();
    await recordPendingEffectsAt0011(db);

    expect(await migrateToLatest(db)).toContain('0012_effect_ordering_key');

    const rows = await db
      .selectFrom('effect')
      .select(['organization_id', 'ordering_key', 'channel', 'sales_rep_id', 'kind', 'status'])
      .orderBy('id')
      .execute();
    const pending = { organization_id: 'org-a', status: 'pending' };
    const ofRep = { ...pending, ordering_key: 'rep-1', sales_rep_id: 'rep-1' };
    const delivery = { ...pending, ordering_key: WEBHOOK_KEY, channel: 'webhook', sales_rep_id: null };
    expect(rows).toEqual([
      { ...ofRep, channel: 'identity', kind: 'identity.provision' },
      { ...ofRep, channel: 'email', kind: 'email.welcome' },
      { ...ofRep, channel: 'sync', kind: 'sync.grant' },
      { ...delivery, kind: 'webhook.deliver' },
      { ...ofRep, channel: 'identity', kind: 'identity.revokeMembership' },
      { ...ofRep, channel: 'sync', kind: 'sync.revoke' },
      { ...delivery, kind: 'webhook.deliver' },
      {
        organization_id: '',
        ordering_key: 'account:acc-1',
        channel: 'email',
        sales_rep_id: null,
        kind: 'email.signinLink',
        status: 'pending',
      },
    ]);

    // The first of each key and channel runs first; the second of a key and channel only once the first is done.
    const rounds = await claimRounds(db);
    expect(rounds.map((round) => [...round].sort())).toEqual([
      [
        'email.signinLink {"to":"bob@example.com"}',
        'email.welcome {"to":"ann@example.com"}',
        'identity.provision {"identityProviderUserId":"user-1"}',
        'sync.grant {"salesRepId":"rep-1"}',
        'webhook.deliver {"eventId":"ev-1","subscriptionId":"wh-1"}',
      ],
      [
        'identity.revokeMembership {"identityProviderUserId":"user-1"}',
        'sync.revoke {"salesRepId":"rep-1"}',
        'webhook.deliver {"eventId":"ev-2","subscriptionId":"wh-1"}',
      ],
    ]);
  }, 120_000);

  it('is undone by its down migration, the rep column holding the ordering key again', async () => {
    const { db, migrator } = await openUnmigrated();
    expect((await migrator.migrateTo('0011_sales_rep_search')).error).toBeUndefined();
    await recordPendingEffectsAt0011(db);
    expect((await migrator.migrateTo('0012_effect_ordering_key')).error).toBeUndefined();
    expect((await migrator.migrateTo('0011_sales_rep_search')).error).toBeUndefined();

    const { rows } = await sql<{ sales_rep_id: string; kind: string }>`
      select sales_rep_id, kind from effect order by id`.execute(db);
    expect(rows.map((row) => `${row.kind} ${row.sales_rep_id}`)).toEqual([
      'identity.provision rep-1',
      'email.welcome rep-1',
      'sync.grant rep-1',
      `webhook.deliver ${WEBHOOK_KEY}`,
      'identity.revokeMembership rep-1',
      'sync.revoke rep-1',
      `webhook.deliver ${WEBHOOK_KEY}`,
      'email.signinLink account:acc-1',
    ]);
    const { rows: columns } = await sql<{ column_name: string }>`
      select column_name from information_schema.columns
      where table_name = 'effect' and table_schema = current_schema() and column_name in ('ordering_key', 'channel')`.execute(
      db,
    );
    expect(columns).toEqual([]);
  }, 120_000);
});
