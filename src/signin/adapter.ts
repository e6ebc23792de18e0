// oidc-provider's storage in the service's database (oidc_payload).
import { sql } from 'kysely';
import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider';
import type { Db } from '../db/database.js';

/**
 * oidc-provider's persistence in the service's database (table oidc_payload, one row per model and id), so that
 * sessions, codes, refresh tokens and grants survive a restart and are shared by replicas. An expired row is never
 * answered; the purge (retention.ts) deletes them in bounded batches off the request path.
 */
export function kyselyAdapter(db: Db): AdapterFactory {
  return (model: string): Adapter => {
    if (model === 'Client') return clientAdapter(db);
    const live = () =>
      db
        .selectFrom('oidc_payload')
        .select('payload')
        .where('model', '=', model)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', new Date())]));
    const answer = (row: { payload: Record<string, unknown> } | undefined) =>
      row ? (row.payload as AdapterPayload) : undefined;
    return {
      async upsert(id, payload, expiresIn) {
        const values = {
          payload: JSON.stringify(payload),
          grant_id: payload.grantId ?? null,
          uid: payload.uid ?? null,
          user_code: payload.userCode ?? null,
          expires_at: expiresIn ? new Date(Date.now() + expiresIn * 1000) : null,
          consumed_at: null,
        };
        await db
          .insertInto('oidc_payload')
          .values({ model, id, ...values })
          .onConflict((conflict) => conflict.columns(['model', 'id']).doUpdateSet(values))
          .execute();
      },
      find: async (id) => answer(await live().where('id', '=', id).executeTakeFirst()),
      findByUid: async (uid) => answer(await live().where('uid', '=', uid).executeTakeFirst()),
      findByUserCode: async (userCode) =>
        answer(await live().where('user_code', '=', userCode).executeTakeFirst()),
      async consume(id) {
        await db
          .updateTable('oidc_payload')
          .set({
            consumed_at: new Date(),
            payload: sql`payload || jsonb_build_object('consumed', floor(extract(epoch from now()))::bigint)`,
          })
          .where('model', '=', model)
          .where('id', '=', id)
          .execute();
      },
      async destroy(id) {
        await db.deleteFrom('oidc_payload').where('model', '=', model).where('id', '=', id).execute();
      },
      async revokeByGrantId(grantId) {
        await db.deleteFrom('oidc_payload').where('grant_id', '=', grantId).execute();
      },
    };
  };
}

/** The clients of `salesreps client add` (signin_client): public clients with PKCE, read on each use. */
function clientAdapter(db: Db): Adapter {
  const unsupported = async () => {
    throw new Error('Clients are registered with `salesreps client add`, not through the provider');
  };
  return {
    async find(id) {
      const row = await db.selectFrom('signin_client').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) return undefined;
      return {
        client_id: row.id,
        token_endpoint_auth_method: 'none',
        redirect_uris: row.redirect_uris,
        post_logout_redirect_uris: row.redirect_uris,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      } as AdapterPayload;
    },
    upsert: unsupported,
    findByUid: async () => undefined,
    findByUserCode: async () => undefined,
    consume: unsupported,
    destroy: unsupported,
    revokeByGrantId: async () => undefined,
  };
}
