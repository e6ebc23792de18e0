import type { operations } from '../../../client/index.js';
import { exactTime, shortDay, TimeAgo } from '../ui/dates.js';

type Rep = operations['listSalesReps']['responses'][200]['content']['application/json'][number];

/**
 * A rep's sign-in state in words (the list's `include=signIn`): "Invited · link expires 14 Dec", "Invitation
 * expired", "Signed in · 2 h ago", "Inactive", "Active · signs in at your IdP" (IDP=kinde).
 */
export function SignInState({ rep }: { rep: Rep }) {
  const signIn = rep.signIn;
  if (!signIn) return <>{rep.active ? 'Active' : 'Inactive'}</>;
  switch (signIn.state) {
    case 'inactive':
      return <>Inactive</>;
    case 'signedIn':
      return signIn.lastSignedInAt ? (
        <>
          Signed in · <TimeAgo at={signIn.lastSignedInAt} />
        </>
      ) : (
        <>Password set · not signed in here yet</>
      );
    case 'invited':
      return signIn.invitationExpiresAt ? (
        <>
          Invited · link expires{' '}
          <time dateTime={signIn.invitationExpiresAt} title={exactTime(signIn.invitationExpiresAt)}>
            {shortDay(signIn.invitationExpiresAt)}
          </time>
        </>
      ) : (
        <>Invited · mail on its way</>
      );
    case 'invitationExpired':
      return <>Invitation expired</>;
    case 'unknown':
      // The reps sign in at an external identity provider, which does not tell the service.
      return (
        <span title="Sign-ins happen at your identity provider, which does not tell this service">
          Active · signs in at your IdP
        </span>
      );
    default:
      return <>Active</>;
  }
}

/** When the rep was added, as a day (the exact time on hover). */
export function AddedOn({ rep }: { rep: Rep }) {
  if (!rep.addedAt) return null;
  return (
    <time dateTime={rep.addedAt} title={exactTime(rep.addedAt)}>
      {shortDay(rep.addedAt)}
    </time>
  );
}

/** Whether "Resend invitation" can work for the rep: what the API says, or (without it) an active rep. */
export function canResendInvitation(rep: Rep): boolean {
  return rep.signIn ? rep.signIn.canResendInvitation : rep.active;
}
