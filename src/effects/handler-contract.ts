// What an effect handler is given and answers: the targets, the run, the handler table's type, SUPERSEDED.
import type { Db } from '../db/database.js';
import type { IdentityProvider } from '../identity/port.js';
import { PermanentEffectError } from '../kernel/remote-errors.js';
import type { DeliverySettings } from '../webhooks/deliver.js';
import type { Mailer } from './email/mailer.js';
import type { EffectKind, PayloadOf, SigninLinkEmail } from './outbox.js';
import type { ClaimedEffect } from './queries.js';
import type { SyncTarget } from './sync/http-target.js';

/** Where effects are carried out. */
export interface EffectTargets {
  identity: IdentityProvider;
  mailer: Mailer;
  /** Absent when SYNC=none: sync effects are then done with nothing to tell. */
  sync: SyncTarget | undefined;
  loginUrl: string;
  /** How event webhooks are delivered. */
  webhooks: DeliverySettings;
  /** The embedded sign-in's links (IDP=local without AUTH_JWKS_URL); absent when people sign in elsewhere. */
  signinLinks?: SigninLinks | undefined;
}

/**
 * What the mail handlers ask the embedded sign-in for. Each link is keyed by the effect that mails it, so a retry
 * renders the same link, and a new one voids the person's earlier links.
 */
export interface SigninLinks {
  /**
   * The link of a rep's welcome or re-invitation mail: a new single-use link to set a password, or, when the person
   * has a password already, the sign-in page. Undefined when the rep is gone.
   */
  forRep(
    effectId: string,
    salesRepId: string,
    identityOrganizationId: string,
  ): Promise<{ url: string; setsPassword: boolean; expiresAt: Date | undefined } | undefined>;
  /** The single-use link of an admin invitation or a password reset. */
  forAccount(effectId: string, payload: SigninLinkEmail): Promise<{ url: string; expiresAt: Date }>;
}

/** What a handler is given besides the payload: the database to check the current state, the targets, the claim. */
export interface EffectRun {
  db: Db;
  targets: EffectTargets;
  claimed: ClaimedEffect;
  /** The effect's deadline: every call made for it stops there. */
  deadline: AbortSignal;
}

/**
 * Carries out one effect of kind K and answers its outcome. Each handler first checks that the effect is still
 * wanted (a later change may have undone it) and answers SUPERSEDED when not; every action is idempotent (keyed by
 * the effect id, or a find-before-change at the provider), so a repeat after a crash changes nothing.
 */
type EffectHandler<K extends EffectKind> = (run: EffectRun, payload: PayloadOf<K>) => Promise<string>;

/** One handler per effect kind: the compiler refuses a table that misses one. */
export type EffectHandlers = { [K in EffectKind]: EffectHandler<K> };

/** The outcome of an effect that a later change made unwanted: done, with nothing carried out. */
export const SUPERSEDED = 'skipped: superseded by a later change';

/** The rep an effect of a rep's kind is about; one recorded without its rep can never be carried out. */
export function repOf(claimed: ClaimedEffect): string {
  if (claimed.sales_rep_id === null) {
    throw new PermanentEffectError(`Effect ${claimed.id} (${claimed.kind}) was recorded without its rep`);
  }
  return claimed.sales_rep_id;
}
