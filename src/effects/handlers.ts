import type { Db } from '../db/database.js';
import type { IdentityProvider } from '../identity/port.js';
import { PermanentEffectError } from '../kernel/remote-errors.js';
import type { DeliverySettings } from '../webhooks/deliver.js';
import { emailHandlers } from './email/handlers.js';
import type { Mailer } from './email/mailer.js';
import { identityHandlers } from './identity/handlers.js';
import type { EffectKind, PayloadOf, SigninLinkEmail } from './outbox.js';
import type { ClaimedEffect } from './queries.js';
import { syncHandlers } from './sync/handlers.js';
import type { SyncTarget } from './sync/webhook.js';
import { webhookHandlers } from './webhooks/handlers.js';

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
export type EffectHandler<K extends EffectKind> = (run: EffectRun, payload: PayloadOf<K>) => Promise<string>;

/** One handler per effect kind: the compiler refuses a table that misses one. */
export type EffectHandlers = { [K in EffectKind]: EffectHandler<K> };

export const SUPERSEDED = 'skipped: superseded by a later change';

const handlers: EffectHandlers = {
  ...identityHandlers,
  ...emailHandlers,
  ...syncHandlers,
  ...webhookHandlers,
};

function isEffectKind(kind: string): kind is EffectKind {
  return Object.hasOwn(handlers, kind);
}

function runHandler<K extends EffectKind>(kind: K, run: EffectRun): Promise<string> {
  // The payload was written from a typed Effect of this kind (recordEffects) and is read back as JSON.
  return handlers[kind](run, run.claimed.payload as PayloadOf<K>);
}

/** Carries a claimed effect out by its kind's handler; a kind no handler knows (a newer release's) is dead at once. */
export function carryOut(
  db: Db,
  targets: EffectTargets,
  claimed: ClaimedEffect,
  deadline: AbortSignal,
): Promise<string> {
  if (!isEffectKind(claimed.kind)) {
    throw new PermanentEffectError(`Unknown effect kind "${claimed.kind}"`);
  }
  return runHandler(claimed.kind, { db, targets, claimed, deadline });
}
