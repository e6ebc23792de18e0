// The effects as the service runs them: the identity directory, the worker and the retention, from the configuration.
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import { type Listener, listenForNotifications } from '../db/listener.js';
import { identityFromConfig } from '../identity/from-config.js';
import type { IdentityDirectory } from '../identity/port.js';
import { type Purge, RETENTION_BATCH_SIZE, RETENTION_INTERVAL_MS } from '../kernel/purge.js';
import { scrub } from '../kernel/scrub.js';
import { NEW_EFFECTS_CHANNEL } from '../outbox/enqueue.js';
import { keptAliveConnections } from '../webhooks/deliver.js';
import { mailerFromConfig } from './email/mailer.js';
import type { EffectTargets, SigninLinks } from './handler-contract.js';
import { startEffectRetention } from './retention.js';
import { httpSyncTarget } from './sync/http-target.js';
import { createEffectWorker, type EffectFailureCounter, type EffectWorker } from './worker.js';

export interface Effects {
  /** What the use-cases ask for a new rep's identity provider user id. */
  directory: IdentityDirectory;
  /**
   * Starts the worker, its listening for other replicas' new effects (PostgreSQL) and the purge of effects past
   * their retention, logging through the service's logger.
   */
  start(log: FastifyBaseLogger): void;
  /**
   * Tells the worker that a change may have recorded effects and committed, so that it claims them now rather than
   * at its next poll (other replicas hear of them through NEW_EFFECTS_CHANNEL).
   */
  wake(): void;
  /** Stops the worker (effects in flight finish first) and closes the mail transport. */
  close(): Promise<void>;
}

/**
 * Builds the identity provider, mailer, sync target and worker that the configuration names; the worker counts its
 * failed attempts in `failures` when given (the service's metrics).
 */
export function createEffects(
  config: Config,
  db: Db,
  failures?: EffectFailureCounter,
  signinLinks?: SigninLinks,
): Effects {
  const { directory, provider } = identityFromConfig(config, db);
  const mailer = mailerFromConfig(config.effects);
  const sync = config.effects.sync;
  const connections = keptAliveConnections();
  const targets: EffectTargets = {
    identity: provider,
    mailer,
    sync: sync && httpSyncTarget({ ...sync, callTimeoutMs: config.effects.callTimeoutMs }),
    loginUrl: config.effects.loginUrl,
    signinLinks,
    webhooks: {
      allowPrivateNetworks: config.webhooks.allowPrivateNetworks,
      connections,
      timeoutMs: config.effects.callTimeoutMs,
      // The schedule is the real one with the default base of 1 s; tests that shorten the backoff shorten it too.
      scale: config.effects.retryBaseMs / 1000,
    },
  };
  let worker: EffectWorker | undefined;
  let retention: Purge | undefined;
  let listener: Listener | undefined;
  return {
    directory,
    start(log) {
      worker ??= createEffectWorker(
        db,
        targets,
        config.effects,
        log.child({ component: 'effects' }),
        failures,
      );
      worker.start();
      // Changes other replicas (and the CLI) commit wake this worker too; the poll remains for what no notification
      // tells (a retry coming due, a notification lost with its connection).
      const listenUrl = config.databaseListenUrl;
      if (listenUrl && !listener) {
        const awake = worker;
        const listenLog = log.child({ component: 'effects-listener' });
        let lost = false;
        listener = listenForNotifications(listenUrl, NEW_EFFECTS_CHANNEL, {
          notified: () => awake.wakeIfIdle(),
          listening: () => {
            if (lost) listenLog.info('listening for new effects again');
            lost = false;
            awake.wake();
          },
          lost: (error) => {
            if (!lost)
              listenLog.warn({ error: scrub(String(error)) }, 'not listening for new effects; reconnecting');
            lost = true;
          },
        });
      }
      retention ??= startEffectRetention(
        db,
        {
          doneDays: config.effects.retentionDays,
          deadDays: config.effects.deadRetentionDays,
          intervalMs: RETENTION_INTERVAL_MS,
          batchSize: RETENTION_BATCH_SIZE,
        },
        log.child({ component: 'effects-retention' }),
      );
    },
    wake: () => worker?.wake(),
    close: async () => {
      await Promise.all([listener?.close(), worker?.stop(), retention?.stop()]);
      mailer.close();
      connections.close();
    },
  };
}
