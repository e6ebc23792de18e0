// The effects a change can imply, typed by kind, and their recording in the change's transaction.
import type { Trx } from '../db/database.js';
import type { Organization, OrganizationSalesRep } from '../db/schema.js';
import { enqueue, enqueueOne, type OutboxEntry } from '../outbox/enqueue.js';

/**
 * The side effects a change implies, each with everything needed to carry it out later (the rep may be gone
 * by then). They are recorded in the transaction of the change, so that a change and its effects are committed
 * together or not at all; the effect workers carry them out afterwards, each once, keyed by the effect's id.
 */
export type Effect =
  | {
      kind: 'identity.provision';
      payload: {
        identityProviderUserId: string;
        email: string;
        firstName: string;
        lastName: string;
        identityOrganizationId: string;
        roles: string[];
      };
    }
  | {
      kind: 'identity.grantMembership';
      payload: { identityProviderUserId: string; identityOrganizationId: string; roles: string[] };
    }
  | {
      kind: 'identity.revokeMembership';
      payload: { identityProviderUserId: string; identityOrganizationId: string };
    }
  | { kind: 'identity.deleteUser'; payload: { identityProviderUserId: string } }
  | { kind: 'email.welcome'; payload: InvitationEmail }
  | { kind: 'email.reinvitation'; payload: InvitationEmail }
  | { kind: 'email.signinLink'; payload: SigninLinkEmail }
  | {
      kind: 'sync.grant';
      payload: { salesRepId: string; organizationId: string; repNumber: string; email: string };
    }
  | { kind: 'sync.revoke'; payload: { salesRepId: string; organizationId: string } }
  | { kind: 'sync.deleteAccount'; payload: { salesRepId: string } }
  /** Enqueued by src/events/record.ts with each event, per matching subscription (key `webhook:<id>:<target>`). */
  | { kind: 'webhook.deliver'; payload: { eventId: string; subscriptionId: string } };

export interface InvitationEmail {
  to: string;
  firstName: string;
  lastName: string;
  organizationName: string;
  identityOrganizationId: string;
  repNumber: string;
  /**
   * 'sso': the organization signs its people in through its own IdP, so the mail leads to its sign-in (LOGIN_URL)
   * and asks for the company account, never for a password. Absent: the usual mail.
   */
  signIn?: 'sso';
}

/** The invitation to one organization, in that organization's own words for the rep. */
export function invitationEmail(
  organization: Organization,
  assignment: Pick<OrganizationSalesRep, 'email' | 'first_name' | 'last_name' | 'rep_number'>,
): InvitationEmail {
  return {
    to: assignment.email,
    firstName: assignment.first_name,
    lastName: assignment.last_name,
    organizationName: organization.name,
    identityOrganizationId: organization.identity_organization_id,
    repNumber: assignment.rep_number,
  };
}

/**
 * A mail of the embedded sign-in (src/signin/) holding a single-use link: an admin's invitation, or a password
 * reset. The link's token is derived from the effect's id when the mail is rendered, never stored in the payload.
 */
export interface SigninLinkEmail {
  to: string;
  accountId: string;
  purpose: 'invitation' | 'reset';
  /** The organization the invitation is to; null for a reset. */
  identityOrganizationId: string | null;
  organizationName: string | null;
}

export type EffectKind = Effect['kind'];
/** The payload an effect of kind K carries. */
export type PayloadOf<K extends EffectKind> = Extract<Effect, { kind: K }>['payload'];

/**
 * Whose effects one is ordered among: a rep's (its effects of a channel run in the order recorded), or a person's
 * sign-in mails, keyed by the account (each voids the person's earlier links).
 */
export type EffectScope =
  | { organizationId: string; salesRepId: string }
  | { organizationId: string; accountId: string };

function entry(scope: EffectScope, effect: Effect): OutboxEntry {
  const about =
    'salesRepId' in scope
      ? { orderingKey: scope.salesRepId, salesRepId: scope.salesRepId }
      : { orderingKey: `account:${scope.accountId}`, salesRepId: null };
  return { organizationId: scope.organizationId, ...about, kind: effect.kind, payload: effect.payload };
}

/** Records one effect in the caller's transaction and answers its id (a sign-in link is derived from it). */
export function recordEffect(trx: Trx, scope: EffectScope, effect: Effect): Promise<string> {
  return enqueueOne(trx, entry(scope, effect));
}

/** Records effects in the caller's transaction, in order: workers carry a rep's effects out in that order. */
export function recordEffects(trx: Trx, scope: EffectScope, effects: Effect[]): Promise<void> {
  return enqueue(
    trx,
    effects.map((effect) => entry(scope, effect)),
  );
}
