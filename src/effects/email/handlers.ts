// The mail effects' handlers: render and send each mail while the rep still wants it.
import { assignmentState } from '../../auth/rep-state.js';
import { PermanentEffectError } from '../../kernel/remote-errors.js';
import { type EffectHandlers, type EffectRun, repOf, SUPERSEDED } from '../handler-contract.js';
import { staleWhenOutOfOrder } from '../order.js';
import type { InvitationEmail } from '../outbox.js';
import { companySignInMessage, invitationMessage, loginLinkFor, signinLinkMessage } from './messages.js';

/** A welcome mail is still wanted while the rep is in the organization; a re-invitation only while it is active. */
function invitationHandler(
  kind: 'welcome' | 'reinvitation',
): (run: EffectRun, payload: InvitationEmail) => Promise<string> {
  const wantedStates = kind === 'welcome' ? ['active', 'inactive'] : ['active'];
  return async ({ db, targets, claimed, deadline }, payload) => {
    const salesRepId = repOf(claimed);
    const stillWanted = async () =>
      wantedStates.includes(await assignmentState(db, claimed.organization_id, salesRepId));
    if (await staleWhenOutOfOrder(claimed, stillWanted)) return SUPERSEDED;
    if (payload.signIn === 'sso') {
      // No link to set a password: the person signs in with the company account at the organization's IdP.
      const signin = loginLinkFor(targets.loginUrl, payload.identityOrganizationId);
      await targets.mailer.send(claimed, companySignInMessage(kind, payload, signin), deadline);
      return 'mail sent (single sign-on)';
    }
    const link = targets.signinLinks
      ? await targets.signinLinks.forRep(claimed.id, salesRepId, payload.identityOrganizationId)
      : {
          url: loginLinkFor(targets.loginUrl, payload.identityOrganizationId),
          setsPassword: false,
          expiresAt: undefined,
        };
    if (!link) return SUPERSEDED;
    await targets.mailer.send(claimed, invitationMessage(kind, payload, link), deadline);
    return link.setsPassword ? 'mail sent with a new invitation link' : 'mail sent';
  };
}

export const emailHandlers: Pick<
  EffectHandlers,
  'email.welcome' | 'email.reinvitation' | 'email.signinLink'
> = {
  'email.welcome': invitationHandler('welcome'),
  'email.reinvitation': invitationHandler('reinvitation'),
  // Recorded only by the embedded sign-in; a later link of the person voids this one, so order needs no check.
  async 'email.signinLink'({ targets, claimed, deadline }, payload) {
    if (!targets.signinLinks)
      throw new PermanentEffectError('Sign-in links exist only with the embedded sign-in');
    const link = await targets.signinLinks.forAccount(claimed.id, payload);
    await targets.mailer.send(claimed, signinLinkMessage(payload, link), deadline);
    return `mail sent with a ${payload.purpose} link`;
  },
};
