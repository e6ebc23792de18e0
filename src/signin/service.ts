// The sign-in's use-cases: sign in, invite, request a link and set a password by it.
import type { FastifyBaseLogger } from 'fastify';
import { ROLE_ADMIN } from '../auth/roles.js';
import type { Db, Trx } from '../db/database.js';
import type { Organization } from '../db/schema.js';
import { invitationEmail, recordEffect } from '../effects/outbox.js';
import type { EventAction } from '../events/actions.js';
import { type ChangeContext, type Changes, recordEvents } from '../events/record.js';
import { endAccountSessions } from '../identity/local.js';
import { newId } from '../kernel/ids.js';
import { conflict, notFound } from '../kernel/problem.js';
import { findOrganizationByIdentityId } from '../organizations/queries.js';
import { hasPassword, type LinkTokens, linkUrl, storeLink, voidLinks } from './links.js';
import { PASSWORD_CHECKS_RETRY_SECONDS, type PasswordChecks } from './password-checks.js';
import { hashPassword, passwordProblem, verifyPassword } from './passwords.js';
import { CONSOLE_CLIENT_ID } from './provider.js';
import {
  findAccountByEmail,
  type Membership,
  membershipsOf,
  organizationKnowing,
  recordGrant,
  recordLastSignIn,
  setPassword,
} from './queries.js';
import {
  clearFailures,
  clientNetwork,
  confirmFailure,
  releaseAttempt,
  reserveAttempt,
  throttleKey,
} from './throttle.js';

/** Settings the use-cases need (config.signin, PUBLIC_URL). */
export interface SigninSettings {
  publicUrl: string;
  invitationTtlHours: number;
  resetTtlMinutes: number;
  scryptLog2N: number;
}

/** The answer of a sign-in attempt: the same "wrong" for an unknown email and a wrong password. */
export type SignInOutcome =
  | { kind: 'signed-in'; accountId: string }
  | { kind: 'wrong' }
  | { kind: 'wait'; seconds: number }
  /** Too many checks at once: of this address (429), or of everyone on this process (503). */
  | { kind: 'busy'; everyone: boolean; seconds: number };

/**
 * A hash of a random password, verified when the email is unknown, so that an unknown email costs the same scrypt
 * as a wrong password (no account enumeration by timing). Made once per cost.
 */
const dummyHashes = new Map<number, Promise<string>>();
function dummyHash(log2N: number): Promise<string> {
  let hash = dummyHashes.get(log2N);
  if (!hash) {
    hash = hashPassword(newId(), log2N);
    dummyHashes.set(log2N, hash);
  }
  return hash;
}

/** How a person signed in: its password, or its organization's identity provider (docs/sso.md). */
export type SignInMethod = 'password' | 'sso';

/** What a sign-in event says: its method, never a credential. */
const methodChange = (method: SignInMethod) => ({ method: { from: null, to: method } });

/** A person acting on its own account: the actor is the user id its tokens carry (the account id). */
function personChange(accountId: string, requestId: string): ChangeContext {
  return { actor: { type: 'user', id: accountId }, requestId };
}

/**
 * Records the person's event in every organization of which it is a current member (docs/events.md, "Sign-in
 * events"): what happens to the person's password concerns each of them, and no other.
 */
async function recordForMemberships(
  trx: Trx,
  accountId: string,
  requestId: string,
  action: EventAction,
  changes: Changes = {},
): Promise<void> {
  const context = personChange(accountId, requestId);
  for (const membership of await membershipsOf(trx, accountId)) {
    await recordEvents(trx, context, membership.organizationId, [
      { action, targets: [{ type: 'user', id: accountId }], changes },
    ]);
  }
}

export async function signIn(
  db: Db,
  settings: SigninSettings,
  attempt: { email: string; password: string; address: string; requestId: string; knownDevice: boolean },
  checks: PasswordChecks,
  log: FastifyBaseLogger,
): Promise<SignInOutcome> {
  // A place in the checks first: an attempt refused for being one too many at once is not counted.
  const network = clientNetwork(attempt.address);
  const entry = checks.enter(network, attempt.knownDevice);
  if (entry.kind !== 'turn') {
    log.warn({ event: 'signin.busy', everyone: entry.kind === 'busy' }, 'sign-in refused: too many at once');
    return { kind: 'busy', everyone: entry.kind === 'busy', seconds: PASSWORD_CHECKS_RETRY_SECONDS };
  }
  const emailKey = throttleKey('email', attempt.email);
  const addressKey = throttleKey('address', network);
  let counted: string[];
  let account: Awaited<ReturnType<typeof findAccountByEmail>>;
  let valid: boolean;
  try {
    const reservation = await reserveAttempt(db, [emailKey, addressKey]);
    if (reservation.kind === 'wait') {
      log.warn(
        { event: 'signin.throttled', waitSeconds: reservation.seconds },
        'sign-in refused: too many failures',
      );
      return { kind: 'wait', seconds: reservation.seconds };
    }
    counted = reservation.keys;
    account = await findAccountByEmail(db, attempt.email);
    await entry.turn.ready;
    valid = await verifyPassword(
      attempt.password,
      account?.password_hash ?? (await dummyHash(settings.scryptLog2N)),
    );
  } finally {
    entry.turn.release();
  }
  if (!account?.password_hash || !valid) {
    // The failure was counted with the attempt; its wait starts now. The same statements whether the email is
    // known or not (an unknown one has no organization to hold its event, so it finds no membership): the
    // answer's timing tells the two apart no more than the event rows a known account's organizations get.
    await confirmFailure(db, counted);
    await db.transaction().execute(async (trx) => {
      await recordForMemberships(
        trx,
        account?.id ?? '',
        attempt.requestId,
        'sign_in.failed',
        methodChange('password'),
      );
    });
    log.warn({ event: 'signin.failed', accountId: account?.id }, 'sign-in failed');
    return { kind: 'wrong' };
  }
  await releaseAttempt(db, [addressKey]);
  await clearFailures(db, emailKey);
  log.info({ event: 'signin.password-accepted', accountId: account.id }, 'password accepted');
  return { kind: 'signed-in', accountId: account.id };
}

/** Sets the password of the link's person and uses the link up; the person's other links are void. */
export async function setPasswordByLink(
  db: Db,
  settings: SigninSettings,
  link: { id: string; accountId: string; email: string; purpose: string },
  password: string,
  request: { address: string; requestId: string },
  checks: PasswordChecks,
  log: FastifyBaseLogger,
): Promise<
  | { kind: 'set' }
  | { kind: 'refused'; reason: string }
  | { kind: 'used' }
  | { kind: 'busy'; everyone: boolean; seconds: number }
> {
  const { requestId } = request;
  const reason = await passwordProblem(password, link.email);
  if (reason) return { kind: 'refused', reason };
  const entry = checks.enter(clientNetwork(request.address));
  if (entry.kind !== 'turn') {
    return { kind: 'busy', everyone: entry.kind === 'busy', seconds: PASSWORD_CHECKS_RETRY_SECONDS };
  }
  let hash: string;
  try {
    await entry.turn.ready;
    hash = await hashPassword(password, settings.scryptLog2N);
  } finally {
    entry.turn.release();
  }
  const used = await db.transaction().execute(async (trx) => {
    const result = await trx
      .updateTable('signin_link')
      .set({ used_at: new Date() })
      .where('id', '=', link.id)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) return false;
    await setPassword(trx, link.accountId, hash);
    await voidLinks(trx, link.accountId);
    // Whoever signed in before (with the old password, or the account's earlier links) is signed out.
    await endAccountSessions(trx, link.accountId);
    await recordForMemberships(
      trx,
      link.accountId,
      requestId,
      link.purpose === 'reset' ? 'password.reset' : 'password.set',
    );
    return true;
  });
  if (!used) return { kind: 'used' };
  log.info(
    {
      event: link.purpose === 'reset' ? 'signin.password-reset' : 'signin.password-set',
      accountId: link.accountId,
    },
    'password set through a link',
  );
  return { kind: 'set' };
}

/** A sign-in to one organization: its grant, its time (the admin's list shows it) and its event, in one transaction. */
export async function recordSignIn(
  db: Db,
  signIn: {
    grantId: string;
    accountId: string;
    membership: Membership;
    expiresAt: Date;
    requestId: string;
    method: SignInMethod;
  },
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await recordGrant(trx, {
      grantId: signIn.grantId,
      accountId: signIn.accountId,
      identityOrganizationId: signIn.membership.identityOrganizationId,
      expiresAt: signIn.expiresAt,
    });
    await recordLastSignIn(trx, {
      accountId: signIn.accountId,
      identityOrganizationId: signIn.membership.identityOrganizationId,
      at: new Date(),
    });
    await recordEvents(
      trx,
      personChange(signIn.accountId, signIn.requestId),
      signIn.membership.organizationId,
      [
        {
          action: 'sign_in.succeeded',
          targets: [{ type: 'user', id: signIn.accountId }],
          changes: methodChange(signIn.method),
        },
      ],
    );
  });
}

/**
 * A sign-in refused for no access to the organization asked for (deactivated, removed, never a member): recorded
 * in that organization only when it knows the person (a membership or an assignment, active or not), else only
 * logged, as is a refusal naming no organization.
 */
export async function recordRefusal(
  db: Db,
  refusal: {
    accountId: string;
    identityOrganizationId: string | undefined;
    requestId: string;
    method: SignInMethod;
  },
): Promise<void> {
  const { accountId, identityOrganizationId, requestId } = refusal;
  if (identityOrganizationId === undefined) return;
  await db.transaction().execute(async (trx) => {
    const organizationId = await organizationKnowing(trx, accountId, identityOrganizationId);
    if (!organizationId) return;
    await recordEvents(trx, personChange(accountId, requestId), organizationId, [
      {
        action: 'sign_in.refused',
        targets: [{ type: 'user', id: accountId }],
        changes: methodChange(refusal.method),
      },
    ]);
  });
}

/**
 * Mails a reset link (or, to a person who never set a password, a new invitation link) when the email belongs to
 * an account; answers nothing either way, so the page says the same for every address.
 */
export async function requestLink(
  db: Db,
  email: string,
  address: string,
  log: FastifyBaseLogger,
): Promise<{ kind: 'done' } | { kind: 'wait'; seconds: number }> {
  const addressKey = throttleKey('address', `link:${clientNetwork(address)}`);
  // Every request counts: an address asking for many links is slowed like one guessing passwords.
  const reservation = await reserveAttempt(db, [addressKey]);
  if (reservation.kind === 'wait') return reservation;
  const account = await findAccountByEmail(db, email);
  if (!account) {
    log.info({ event: 'signin.link-requested', known: false }, 'link requested for an unknown address');
    return { kind: 'done' };
  }
  const purpose = account.password_hash ? 'reset' : 'invitation';
  await db.transaction().execute(async (trx) => {
    await voidLinks(trx, account.id);
    await recordEffect(
      trx,
      { organizationId: '', accountId: account.id },
      {
        kind: 'email.signinLink',
        payload: {
          to: account.email,
          accountId: account.id,
          purpose,
          identityOrganizationId: null,
          organizationName: null,
        },
      },
    );
  });
  log.info({ event: 'signin.link-requested', accountId: account.id, purpose }, 'link requested');
  return { kind: 'done' };
}

/**
 * POST /api/organizations/salesreps/invitation: a new invitation mail for a rep who has not set a password yet
 * (the old link void at once). 404 for no such rep of the organization; 409 when the rep is inactive or has a
 * password already.
 */
export async function resendInvitation(
  db: Db,
  context: ChangeContext,
  organization: Organization,
  organizationSalesRepId: string,
  log: FastifyBaseLogger,
): Promise<{ organizationSalesRepId: string; email: string }> {
  const result = await db.transaction().execute(async (trx) => {
    const assignment = await trx
      .selectFrom('organization_sales_rep as a')
      .innerJoin('sales_rep as r', 'r.id', 'a.sales_rep_id')
      .select([
        'a.id',
        'a.active',
        'a.email',
        'a.first_name',
        'a.last_name',
        'a.rep_number',
        'a.sales_rep_id',
      ])
      .select('r.identity_provider_user_id')
      .where('a.id', '=', organizationSalesRepId)
      .where('a.organization_id', '=', organization.id)
      .forUpdate('a')
      .executeTakeFirst();
    if (!assignment)
      throw notFound(`No sales rep assignment ${organizationSalesRepId} in this organization.`);
    if (!assignment.active) {
      throw conflict('rep-inactive', 'The rep is inactive; activating the rep sends a new invitation.');
    }
    if (await hasPassword(trx, assignment.identity_provider_user_id)) {
      throw conflict(
        'password-already-set',
        'The rep has set a password already; it can reset it from the sign-in page.',
      );
    }
    await voidLinks(trx, assignment.identity_provider_user_id);
    // An invitation a bulk add held back is sent by this one.
    await trx
      .updateTable('organization_sales_rep')
      .set({ invitation_pending: false })
      .where('id', '=', assignment.id)
      .execute();
    await recordEffect(
      trx,
      { organizationId: organization.id, salesRepId: assignment.sales_rep_id },
      {
        kind: 'email.welcome',
        payload: invitationEmail(organization, assignment),
      },
    );
    await recordEvents(trx, context, organization.id, [
      {
        action: 'invitation.resent',
        targets: [
          { type: 'organization_sales_rep', id: assignment.id },
          { type: 'sales_rep', id: assignment.sales_rep_id },
        ],
        changes: {},
      },
    ]);
    return { organizationSalesRepId: assignment.id, email: assignment.email };
  });
  log.info({ event: 'signin.invitation-resent', organizationSalesRepId }, 'invitation sent again');
  return result;
}

/**
 * `salesreps admin invite`: the organization's admin (an account found by email, or a new one), its Admin
 * membership, and an invitation link recorded with the mail that carries it; answers the link to print.
 */
export async function inviteAdmin(
  db: Db,
  tokens: LinkTokens,
  settings: SigninSettings,
  input: { identityOrganizationId: string; email: string },
): Promise<{ accountId: string; link: string | undefined; expiresAt: Date | undefined }> {
  const organization = await findOrganizationByIdentityId(db, input.identityOrganizationId);
  if (!organization)
    throw new SigninCommandError(
      `No organization with identity organization id "${input.identityOrganizationId}".`,
    );
  return db.transaction().execute(async (trx) => {
    const existing = await findAccountByEmail(trx, input.email);
    const accountId = existing?.id ?? `admin_${newId()}`;
    if (!existing) {
      await trx
        .insertInto('idp_account')
        .values({ id: accountId, email: input.email, first_name: '', last_name: '' })
        .execute();
    }
    const membership = await trx
      .selectFrom('idp_membership')
      .select('roles')
      .where('account_id', '=', accountId)
      .where('identity_organization_id', '=', organization.identity_organization_id)
      .executeTakeFirst();
    const roles = [...new Set([...(membership?.roles ?? []), ROLE_ADMIN])];
    await trx
      .insertInto('idp_membership')
      .values({
        account_id: accountId,
        identity_organization_id: organization.identity_organization_id,
        roles,
      })
      .onConflict((c) => c.columns(['account_id', 'identity_organization_id']).doUpdateSet({ roles }))
      .execute();
    if (existing?.password_hash) return { accountId, link: undefined, expiresAt: undefined };
    const effectId = await recordEffect(
      trx,
      { organizationId: organization.id, accountId },
      {
        kind: 'email.signinLink',
        payload: {
          to: input.email,
          accountId,
          purpose: 'invitation',
          identityOrganizationId: organization.identity_organization_id,
          organizationName: organization.name,
        },
      },
    );
    const expiresAt = await storeLink(trx, tokens, {
      id: effectId,
      accountId,
      identityOrganizationId: organization.identity_organization_id,
      purpose: 'invitation',
      expiresAt: new Date(Date.now() + settings.invitationTtlHours * 3_600_000),
    });
    return { accountId, link: linkUrl(settings.publicUrl, tokens.tokenFor(effectId)), expiresAt };
  });
}

/**
 * `salesreps client add`: registers a public client (PKCE, no secret) with its redirect URIs, matched exactly by
 * the provider. Each must be an absolute http(s) URI without a fragment; plain http only for a loopback host.
 */
export async function addClient(
  db: Db,
  input: { id: string; redirectUris: string[] },
): Promise<{ clientId: string; redirectUris: string[]; tokenEndpointAuthMethod: 'none'; pkce: 'S256' }> {
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(input.id)) {
    throw new SigninCommandError('--id must be 1 to 100 letters, digits, dots, dashes or underscores.');
  }
  if (input.id === CONSOLE_CLIENT_ID)
    throw new SigninCommandError(`"${CONSOLE_CLIENT_ID}" is the built-in console client.`);
  if (input.redirectUris.length === 0) throw new SigninCommandError('--redirect-uri is required.');
  for (const uri of input.redirectUris) {
    let parsed: URL;
    try {
      parsed = new URL(uri);
    } catch {
      throw new SigninCommandError(`--redirect-uri "${uri}" is not a URL.`);
    }
    const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(parsed.hostname);
    if (parsed.hash || !(parsed.protocol === 'https:' || (parsed.protocol === 'http:' && loopback))) {
      throw new SigninCommandError(
        `--redirect-uri "${uri}" must be https (or http on localhost) and have no fragment.`,
      );
    }
  }
  const inserted = await db
    .insertInto('signin_client')
    .values({ id: input.id, redirect_uris: input.redirectUris })
    .onConflict((c) => c.column('id').doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!inserted) throw new SigninCommandError(`A client "${input.id}" exists already.`);
  return {
    clientId: input.id,
    redirectUris: input.redirectUris,
    tokenEndpointAuthMethod: 'none',
    pkce: 'S256',
  };
}

/** A CLI command's input names something that is not there. */
export class SigninCommandError extends Error {}
