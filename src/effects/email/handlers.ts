import { assignmentState } from '../../rep-state/queries.js';
import { type EffectHandlers, type EffectRun, SUPERSEDED } from '../handlers.js';
import { staleWhenOutOfOrder } from '../order.js';
import type { InvitationEmail } from '../outbox.js';
import { invitationMessage } from './messages.js';

/** A welcome mail is still wanted while the rep is in the organization; a re-invitation only while it is active. */
function invitationHandler(
  kind: 'welcome' | 'reinvitation',
): (run: EffectRun, payload: InvitationEmail) => Promise<string> {
  const wantedStates = kind === 'welcome' ? ['active', 'inactive'] : ['active'];
  return async ({ db, targets, claimed, deadline }, payload) => {
    const stillWanted = async () =>
      wantedStates.includes(await assignmentState(db, claimed.organization_id, claimed.sales_rep_id));
    if (await staleWhenOutOfOrder(db, claimed, stillWanted)) return SUPERSEDED;
    await targets.mailer.send(claimed.id, invitationMessage(kind, payload, targets.loginUrl), deadline);
    return 'mail sent';
  };
}

export const emailHandlers: Pick<EffectHandlers, 'email.welcome' | 'email.reinvitation'> = {
  'email.welcome': invitationHandler('welcome'),
  'email.reinvitation': invitationHandler('reinvitation'),
};
