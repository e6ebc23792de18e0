// Single-use invitation and reset links: their tokens, storage and lookup.
import { createHash, createHmac, hkdfSync } from 'node:crypto';
import { type QueryCreator, sql } from 'kysely';
import type { Db, Executor } from '../db/database.js';
import type { Tables } from '../db/schema.js';
import type { SigninLinks } from '../effects/handler-contract.js';
import type { SigninLinkEmail } from '../effects/outbox.js';

/**
 * Single-use links. A link's token is an HMAC of its id (the id of the effect that mails it) under a secret derived
 * from the local issuer's private key, so a retried mail renders the same token and the CLI can print the link it
 * records; only the token's SHA-256 is stored. Replicas share the issuer key file, and so the secret.
 */
export interface LinkTokens {
  tokenFor(linkId: string): string;
}

/** The link tokens, derived from the local issuer's secret root (LocalIssuer.secretRoot). */
export function linkTokens(secretRoot: Buffer): LinkTokens {
  const secret = Buffer.from(hkdfSync('sha256', secretRoot, 'salesreps', 'signin links', 32));
  return { tokenFor: (linkId) => createHmac('sha256', secret).update(`link:${linkId}`).digest('base64url') };
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

export function linkUrl(publicUrl: string, token: string): string {
  return `${publicUrl}/signin/link/${token}`;
}

export interface NewLink {
  id: string;
  accountId: string;
  identityOrganizationId: string | null;
  purpose: 'invitation' | 'reset';
  expiresAt: Date;
}

/**
 * Stores a link (once: a retry finds it) and voids every other unused link of the person, so that only the newest
 * link works. Answers its expiry as stored. One statement: the mail effects that call it are many under load.
 */
export async function storeLink(db: Executor, tokens: LinkTokens, link: NewLink): Promise<Date> {
  const stored = await db
    .with('voided', (cte) => voidLinksQuery(cte, link.accountId, link.id).returning('id'))
    .with('inserted', (cte) =>
      cte
        .insertInto('signin_link')
        .values({
          id: link.id,
          token_hash: hashToken(tokens.tokenFor(link.id)),
          account_id: link.accountId,
          identity_organization_id: link.identityOrganizationId,
          purpose: link.purpose,
          expires_at: link.expiresAt,
        })
        .onConflict((conflict) => conflict.column('id').doNothing())
        .returning('expires_at'),
    )
    // A retry's insert does nothing: the link stored by the first attempt (committed before this statement) answers.
    .selectNoFrom((eb) =>
      eb.fn
        .coalesce(
          eb.selectFrom('inserted').select('expires_at'),
          eb.selectFrom('signin_link').select('expires_at').where('id', '=', link.id),
        )
        .as('expires_at'),
    )
    .executeTakeFirstOrThrow();
  if (!stored.expires_at) throw new Error(`Sign-in link ${link.id} was neither stored nor found`);
  return stored.expires_at;
}

/** Voids the person's unused links (but `except`): a new link, or a password set, makes them useless. */
export async function voidLinks(db: Executor, accountId: string, except?: string): Promise<void> {
  await voidLinksQuery(db, accountId, except).execute();
}

/** voidLinks' statement, for a caller that runs it within a statement of its own (storeLink). */
function voidLinksQuery(db: QueryCreator<Tables>, accountId: string, except?: string) {
  const query = db
    .updateTable('signin_link')
    .set({ used_at: new Date() })
    .where('account_id', '=', accountId)
    .where('used_at', 'is', null);
  return except === undefined ? query : query.where('id', '<>', except);
}

export interface OpenLink {
  id: string;
  accountId: string;
  identityOrganizationId: string | null;
  purpose: 'invitation' | 'reset';
  email: string;
  organizationName: string | null;
}

/** The link of a token when it is unused and unexpired, with its person (whose account must exist). */
export async function findOpenLink(db: Executor, token: string): Promise<OpenLink | undefined> {
  // A rep's welcome mail may go out before the effect that provisions its account: the rep's email stands in.
  const row = await db
    .selectFrom('signin_link as l')
    .leftJoin('idp_account as a', 'a.id', 'l.account_id')
    .leftJoin('sales_rep as r', 'r.identity_provider_user_id', 'l.account_id')
    .leftJoin('organization as o', 'o.identity_organization_id', 'l.identity_organization_id')
    .select(['l.id', 'l.account_id', 'l.identity_organization_id', 'l.purpose', 'o.name'])
    .select(sql<string | null>`coalesce(a.email, r.email)`.as('email'))
    .where('l.token_hash', '=', hashToken(token))
    .where('l.used_at', 'is', null)
    .where('l.expires_at', '>', new Date())
    .executeTakeFirst();
  if (!row?.email) return undefined;
  return {
    id: row.id,
    accountId: row.account_id,
    identityOrganizationId: row.identity_organization_id,
    purpose: row.purpose,
    email: row.email,
    organizationName: row.name,
  };
}

export async function hasPassword(db: Executor, accountId: string): Promise<boolean> {
  const row = await db
    .selectFrom('signin_credential')
    .select('account_id')
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  return row !== undefined;
}

/** The links the mail handlers render, for the effects (effects/handlers.ts, SigninLinks). */
export function signinLinksFor(
  db: Db,
  tokens: LinkTokens,
  options: { publicUrl: string; invitationTtlHours: number; resetTtlMinutes: number },
): SigninLinks {
  return {
    async forRep(effectId, salesRepId, identityOrganizationId) {
      const rep = await db
        .selectFrom('sales_rep as r')
        .leftJoin('signin_credential as c', 'c.account_id', 'r.identity_provider_user_id')
        .select(['r.identity_provider_user_id', sql<boolean>`c.account_id is not null`.as('has_password')])
        .where('r.id', '=', salesRepId)
        .executeTakeFirst();
      if (!rep) return undefined;
      const accountId = rep.identity_provider_user_id;
      if (rep.has_password) {
        return {
          url: `${options.publicUrl}/signin?org=${encodeURIComponent(identityOrganizationId)}`,
          setsPassword: false,
          expiresAt: undefined,
        };
      }
      const expiresAt = await storeLink(db, tokens, {
        id: effectId,
        accountId,
        identityOrganizationId,
        purpose: 'invitation',
        expiresAt: new Date(Date.now() + options.invitationTtlHours * 3_600_000),
      });
      return { url: linkUrl(options.publicUrl, tokens.tokenFor(effectId)), setsPassword: true, expiresAt };
    },
    async forAccount(effectId, payload: SigninLinkEmail) {
      const ttlMs =
        payload.purpose === 'invitation'
          ? options.invitationTtlHours * 3_600_000
          : options.resetTtlMinutes * 60_000;
      const expiresAt = await storeLink(db, tokens, {
        id: effectId,
        accountId: payload.accountId,
        identityOrganizationId: payload.identityOrganizationId,
        purpose: payload.purpose,
        expiresAt: new Date(Date.now() + ttlMs),
      });
      return { url: linkUrl(options.publicUrl, tokens.tokenFor(effectId)), expiresAt };
    },
  };
}
