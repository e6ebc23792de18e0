// Setup links: a single-use page where an organization's IT admin enters and tests its connection without an account.
import { createHash, randomBytes } from 'node:crypto';
import type { Db, Executor } from '../db/database.js';
import type { Organization } from '../db/schema.js';
import { type ChangeContext, recordEvents } from '../events/record.js';
import { newId } from '../kernel/ids.js';
import { lockOrganization } from '../organizations/lock.js';
import { findConnectionOfOrganization } from './queries.js';
import type { PutConnectionBody, SsoConnection } from './schemas.js';
import { managedElsewhere, putConnection, type SsoSettings, showConnection } from './service.js';

export const SETUP_LINK_DEFAULT_HOURS = 24;

const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');

const setupLinkUrl = (publicUrl: string, token: string) => `${publicUrl}/sso/setup/${token}`;

/**
 * POST /api/organizations/sso/setup-links: a new link, shown once (only its token's hash is kept), that voids the
 * organization's earlier unused links, with its event. It sets the organization's connection, or a new one under an
 * id reserved now — the one earlier links reserved, so that SAML addresses already given to the IdP stay.
 */
export async function createSetupLink(
  db: Db,
  settings: Pick<SsoSettings, 'publicUrl' | 'embedded'>,
  organization: Organization,
  expiresInHours: number,
  change: ChangeContext,
): Promise<{ url: string; expiresAt: string }> {
  if (!settings.embedded) throw managedElsewhere();
  const token = randomBytes(32).toString('base64url');
  const id = newId();
  const expiresAt = new Date(Date.now() + expiresInHours * 3600_000);
  await db.transaction().execute(async (trx) => {
    await lockOrganization(trx, organization.id);
    const connection = await findConnectionOfOrganization(trx, organization.id);
    const earlier = await trx
      .selectFrom('sso_setup_link')
      .select('connection_id')
      .where('organization_id', '=', organization.id)
      .orderBy('created_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    await trx
      .updateTable('sso_setup_link')
      .set({ voided_at: new Date() })
      .where('organization_id', '=', organization.id)
      .where('used_at', 'is', null)
      .where('voided_at', 'is', null)
      .execute();
    await trx
      .insertInto('sso_setup_link')
      .values({
        id,
        organization_id: organization.id,
        token_hash: hashToken(token),
        connection_id: connection?.id ?? earlier?.connection_id ?? newId(),
        expires_at: expiresAt,
      })
      .execute();
    await recordEvents(trx, change, organization.id, [
      {
        action: 'sso.setup_link_created',
        targets: [{ type: 'sso_setup_link', id }],
        changes: { expiresAt: { from: null, to: expiresAt.toISOString() } },
      },
    ]);
  });
  return { url: setupLinkUrl(settings.publicUrl, token), expiresAt: expiresAt.toISOString() };
}

/** A setup link as its page sees it: open (with its organization and the connection it sets), gone, or unknown. */
export type SetupLinkState =
  | {
      kind: 'open';
      id: string;
      organization: Organization;
      /** The connection it sets: the organization's own, else the id reserved for a new one. */
      connectionId: string;
      current: SsoConnection | undefined;
      expiresAt: Date;
    }
  | { kind: 'gone' }
  | { kind: 'unknown' };

export async function openSetupLink(
  db: Db,
  settings: Pick<SsoSettings, 'publicUrl' | 'embedded'>,
  token: string,
): Promise<SetupLinkState> {
  const link = await db
    .selectFrom('sso_setup_link')
    .selectAll()
    .where('token_hash', '=', hashToken(token))
    .executeTakeFirst();
  if (!link) return { kind: 'unknown' };
  if (link.used_at || link.voided_at || link.expires_at.getTime() <= Date.now()) return { kind: 'gone' };
  const organization = await db
    .selectFrom('organization')
    .selectAll()
    .where('id', '=', link.organization_id)
    .executeTakeFirstOrThrow();
  const existing = await findConnectionOfOrganization(db, organization.id);
  return {
    kind: 'open',
    id: link.id,
    organization,
    connectionId: existing?.id ?? link.connection_id,
    current: existing ? await showConnection(db, settings, organization) : undefined,
    expiresAt: link.expires_at,
  };
}

/** A setup link used, voided or expired since its page was opened: nothing was saved. */
export class SetupLinkGoneError extends Error {}

/**
 * Saves the connection through a setup link: the Admin's PUT (the same checks and event), its actor the link
 * (`setup-link:<id>`), and the link used up in the same transaction — one save per link, even at once.
 */
export async function saveThroughSetupLink(
  db: Db,
  settings: SsoSettings,
  token: string,
  body: PutConnectionBody,
  requestId: string,
): Promise<{ connection: SsoConnection; connectionId: string; organizationName: string }> {
  const link = await openSetupLink(db, settings, token);
  if (link.kind !== 'open') throw new SetupLinkGoneError();
  const connection = await putConnection(
    db,
    settings,
    link.organization,
    body,
    { actor: { type: 'user', id: `setup-link:${link.id}` }, requestId },
    {
      newConnectionId: link.connectionId,
      within: async (trx) => {
        const used = await trx
          .updateTable('sso_setup_link')
          .set({ used_at: new Date() })
          .where('id', '=', link.id)
          .where('used_at', 'is', null)
          .where('voided_at', 'is', null)
          .where('expires_at', '>', new Date())
          .executeTakeFirst();
        if (Number(used.numUpdatedRows) !== 1) throw new SetupLinkGoneError();
      },
    },
  );
  const saved = await findConnectionOfOrganization(db, link.organization.id);
  return {
    connection,
    connectionId: saved?.id ?? link.connectionId,
    organizationName: link.organization.name,
  };
}

/** Whether an open setup link reserves this connection id: its SAML service provider metadata is served already. */
export async function isReservedConnectionId(db: Executor, connectionId: string): Promise<boolean> {
  const row = await db
    .selectFrom('sso_setup_link')
    .select('id')
    .where('connection_id', '=', connectionId)
    .where('used_at', 'is', null)
    .where('voided_at', 'is', null)
    .where('expires_at', '>', new Date())
    .executeTakeFirst();
  return row !== undefined;
}
