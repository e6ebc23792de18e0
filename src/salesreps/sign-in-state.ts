// A rep's sign-in state as the admin's list shows it (`include=signIn`): from what the embedded sign-in stored.
import type { SignInState } from './schemas.js';

/** What the sign-in stored of one rep of one organization (readSignInFacts). */
export interface SignInFacts {
  active: boolean;
  hasPassword: boolean;
  /** The newest unused link's expiry, past or not. */
  linkExpiresAt: Date | null;
  lastSignedInAt: Date | null;
  invitationPending: boolean;
}

export interface SignIn {
  state: SignInState;
  invitationExpiresAt: Date | null;
  lastSignedInAt: Date | null;
  canResendInvitation: boolean;
}

/**
 * The rep's state. `local`: whether the reps sign in here (IDP=local); with an external provider only the
 * deactivation is known. A rep who set a password or signed in is `signedIn` (SSO people have no password); one
 * who did neither is `invited` while a link works or its mail is being sent, else `invitationExpired`. The
 * invitation can be resent exactly where POST /api/organizations/salesreps/invitation sends one: an active rep
 * without a password.
 */
export function signInOf(facts: SignInFacts, local: boolean, now: Date): SignIn {
  const linkWorks = facts.linkExpiresAt !== null && facts.linkExpiresAt > now;
  const invitationExpiresAt = linkWorks ? facts.linkExpiresAt : null;
  const known = { invitationExpiresAt, lastSignedInAt: facts.lastSignedInAt };
  if (!facts.active) return { state: 'inactive', ...known, canResendInvitation: false };
  if (!local) return { state: 'unknown', ...known, canResendInvitation: false };
  const canResendInvitation = !facts.hasPassword;
  if (facts.hasPassword || facts.lastSignedInAt) return { state: 'signedIn', ...known, canResendInvitation };
  if (linkWorks || facts.invitationPending) return { state: 'invited', ...known, canResendInvitation };
  return { state: 'invitationExpired', ...known, canResendInvitation };
}
