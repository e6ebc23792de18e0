// The data-sync effects' handlers: tell the sync system of a grant, revoke or deletion unless stale.
import { assignmentState, salesRepExists } from '../../auth/rep-state.js';
import { type EffectHandlers, type EffectRun, repOf, SUPERSEDED } from '../handler-contract.js';
import { staleWhenOutOfOrder } from '../order.js';
import type { SyncChange } from './http-target.js';

/** Tells the data-sync system of a change, unless it is stale (out of order, and undone by a later change). */
async function tell(
  run: EffectRun,
  change: SyncChange,
  stillWanted: () => Promise<boolean>,
): Promise<string> {
  // Without a sync target there is nothing to tell, stale or not: no need to read the rep's state.
  if (!run.targets.sync) return 'no sync configured';
  if (await staleWhenOutOfOrder(run.claimed, stillWanted)) return SUPERSEDED;
  await run.targets.sync.send(run.claimed.id, change, run.deadline);
  return 'sync told';
}

const isActive = async ({ db, claimed }: EffectRun) =>
  (await assignmentState(db, claimed.organization_id, repOf(claimed))) === 'active';

export const syncHandlers: Pick<EffectHandlers, 'sync.grant' | 'sync.revoke' | 'sync.deleteAccount'> = {
  'sync.grant': (run, payload) => tell(run, { kind: 'sync.grant', payload }, () => isActive(run)),
  'sync.revoke': (run, payload) =>
    tell(run, { kind: 'sync.revoke', payload }, async () => !(await isActive(run))),
  'sync.deleteAccount': (run, payload) =>
    tell(
      run,
      { kind: 'sync.deleteAccount', payload },
      async () => !(await salesRepExists(run.db, repOf(run.claimed))),
    ),
};
