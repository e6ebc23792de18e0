// The data-sync system's HTTP target (SYNC=webhook): one signed POST per change of a rep's access.
import { Webhook } from 'standardwebhooks';
import { inSpan } from '../../kernel/tracing.js';
import type { Effect } from '../outbox.js';

/** The data-sync system, told of each change of a rep's access. */
export interface SyncTarget {
  send(effectId: string, change: SyncChange, deadline: AbortSignal): Promise<void>;
}

export type SyncChange = Extract<Effect, { kind: 'sync.grant' | 'sync.revoke' | 'sync.deleteAccount' }>;

const EVENT_TYPES: Record<SyncChange['kind'], string> = {
  'sync.grant': 'salesrep.access.granted',
  'sync.revoke': 'salesrep.access.revoked',
  'sync.deleteAccount': 'salesrep.account.deleted',
};

/**
 * SYNC=webhook: one signed POST per change, as the Standard Webhooks specification says. The webhook-id is the
 * effect id, the same on every attempt, so the receiver can drop a repeat; any answer but 2xx is retried.
 */
export function httpSyncTarget(settings: { url: string; secret: string; callTimeoutMs: number }): SyncTarget {
  const signer = new Webhook(settings.secret);
  const url = new URL(settings.url);
  // The URL itself is not written down: its path or query may hold the receiver's own secret.
  const described = {
    'http.request.method': 'POST',
    'server.address': url.hostname,
    'server.port': Number(url.port) || (url.protocol === 'http:' ? 80 : 443),
  };
  return {
    async send(effectId, change, deadline) {
      const now = new Date();
      const body = JSON.stringify({
        type: EVENT_TYPES[change.kind],
        timestamp: now.toISOString(),
        data: change.payload,
      });
      const response = await inSpan('POST', { kind: 'client', attributes: described }, async (span) => {
        const answer = await fetch(settings.url, {
          method: 'POST',
          headers: {
            ...span.traceHeaders(),
            'content-type': 'application/json',
            'webhook-id': effectId,
            'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
            'webhook-signature': signer.sign(effectId, now, body),
          },
          body,
          signal: AbortSignal.any([AbortSignal.timeout(settings.callTimeoutMs), deadline]),
        });
        span.setAttributes({ 'http.response.status_code': answer.status });
        return answer;
      });
      if (!response.ok) {
        throw new Error(
          `The sync webhook answered ${response.status}: ${(await response.text()).slice(0, 300)}`,
        );
      }
    },
  };
}
