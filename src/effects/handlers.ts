// The handler table: one handler per effect kind, and carrying a claimed effect out by its kind's handler.
import type { Db } from '../db/database.js';
import { PermanentEffectError } from '../kernel/remote-errors.js';
import { emailHandlers } from './email/handlers.js';
import { eventDeliveryHandlers } from './event-delivery/handlers.js';
import type { EffectHandlers, EffectRun, EffectTargets } from './handler-contract.js';
import { identityHandlers } from './identity/handlers.js';
import type { EffectKind, PayloadOf } from './outbox.js';
import type { ClaimedEffect } from './queries.js';
import { syncHandlers } from './sync/handlers.js';

const handlers: EffectHandlers = {
  ...identityHandlers,
  ...emailHandlers,
  ...syncHandlers,
  ...eventDeliveryHandlers,
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
