// Whether an effect carried out out of order is stale: undone by a later change of its rep and channel.
import type { ClaimedEffect } from './queries.js';

/**
 * Mail and sync effects in order are carried out as recorded. Out of order (a dead one retried after later effects
 * of its rep and channel were done), they are checked against the current state first, and are stale — to be
 * skipped — when a later change undid them.
 */
export async function staleWhenOutOfOrder(
  claimed: ClaimedEffect,
  stillWanted: () => Promise<boolean>,
): Promise<boolean> {
  return claimed.later_done && !(await stillWanted());
}
