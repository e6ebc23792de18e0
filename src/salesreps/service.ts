// The sales-rep use-cases: list, add, renumber, activate, deactivate, remove, with their effects and events.
import type { RequestAuth } from '../auth/policies.js';
import { ROLE_SALES_REP } from '../auth/roles.js';
import { reassignCustomers } from '../customers/service.js';
import type { Db, Trx } from '../db/database.js';
import type { Organization, OrganizationSalesRep as OrganizationSalesRepRow } from '../db/schema.js';
import { type Effect, invitationEmail, recordEffects } from '../effects/outbox.js';
import {
  type ChangeContext,
  changesBetween,
  created,
  recordEvents,
  removed,
  type Target,
} from '../events/record.js';
import type { IdentityDirectory } from '../identity/port.js';
import { newId } from '../kernel/ids.js';
import {
  badRequest,
  conflict,
  describeInvalid,
  type FieldError,
  notFound,
  ProblemError,
} from '../kernel/problem.js';
import { searchKey } from '../kernel/search.js';
import type { SortDirection } from '../kernel/sort-direction.js';
import { readPageQuery } from '../routing/page-query.js';
import { listingCachesOf } from './listing/caches.js';
import { listFilteredAssignmentsPage } from './listing/filtered.js';
import type { AssignmentListRow } from './listing/page.js';
import { listAssignmentsPage } from './listing/unfiltered.js';
import {
  clearInvitationPending,
  countAssignmentsOfSalesRep,
  countPendingInvitations,
  deleteAssignment,
  deleteSalesRep,
  findAssignmentForUpdate,
  findAssignmentsTaking,
  insertAssignment,
  insertOrFindSalesRep,
  listOrganizationsOfUser,
  lockPendingInvitations,
  lockSalesRepOfAssignment,
  readSignInFacts,
  updateActive,
  updateDetails,
  updateRepNumber,
} from './queries.js';
import {
  type AddSalesRepBody,
  type AddSalesRepResponse,
  type ChangeRepNumberBody,
  type ChangeRepNumberResponse,
  LIMITS,
  type ListedSalesRep,
  type ListSalesRepsQuery,
  type SalesRepOrganization,
  SORT_FIELDS,
  type SortField,
} from './schemas.js';
import { signInOf } from './sign-in-state.js';

const UNIQUE_VIOLATION = '23505';

function uniqueViolationOf(error: unknown): string | undefined {
  if (error && typeof error === 'object' && (error as { code?: unknown }).code === UNIQUE_VIOLATION) {
    return String((error as { constraint?: unknown }).constraint ?? '');
  }
  return undefined;
}

function repNumberTaken(repNumber: string) {
  return conflict('rep-number-taken', `Rep number "${repNumber}" is already used in this organization.`);
}

export interface SalesRepPage {
  items: ListedSalesRep[];
  total: number;
  pageNumber: number;
  pageSize: number;
  sortOn: SortField;
  sortDirection: SortDirection;
}

export async function listSalesReps(
  db: Db,
  organization: Organization,
  query: ListSalesRepsQuery,
  /** Whether the reps sign in here (IDP=local): else their sign-in state is `unknown` but for deactivation. */
  localSignIn: boolean,
): Promise<SalesRepPage> {
  const { pageNumber, pageSize, sortOn, sortDirection } = readPageQuery(query, SORT_FIELDS, {
    sortOn: 'RepNumber',
    pageSize: 25,
  });
  const page = { sortOn, sortDirection, limit: pageSize, offset: (pageNumber - 1) * pageSize };
  const caches = listingCachesOf(db);
  // The page and X-Total-Count come from one statement, so they always agree.
  const { rows, total } =
    query.search === undefined && query.active === undefined
      ? await listAssignmentsPage(db, caches, organization.id, page)
      : await listFilteredAssignmentsPage(
          db,
          caches,
          organization.id,
          {
            search: query.search,
            active: query.active,
          },
          page,
        );
  const items: ListedSalesRep[] = rows.map((row) => ({
    organizationId: row.organization_id,
    organizationSalesRepId: row.id,
    salesRepId: row.sales_rep_id,
    firstName: row.first_name,
    lastName: row.last_name,
    email: row.email,
    phoneNumber: row.phone_number,
    repNumber: row.rep_number,
    active: row.active,
  }));
  return {
    items: query.include === 'signIn' ? await withSignIn(db, organization, rows, items, localSignIn) : items,
    total,
    pageNumber,
    pageSize,
    sortOn,
    sortDirection,
  };
}

/**
 * The page's items with when each rep was added and its sign-in state, read in one statement for the page. The
 * page's own `active` is kept, so an item never contradicts itself when the rep changed between the statements.
 */
async function withSignIn(
  db: Db,
  organization: Organization,
  rows: readonly AssignmentListRow[],
  items: ListedSalesRep[],
  localSignIn: boolean,
): Promise<ListedSalesRep[]> {
  if (rows.length === 0) return items;
  const facts = new Map(
    (
      await readSignInFacts(
        db,
        organization.id,
        rows.map((row) => row.id),
      )
    ).map((row) => [row.id, row]),
  );
  const now = new Date();
  return items.map((item) => {
    const found = facts.get(item.organizationSalesRepId);
    // Removed since the page was read: the item stays as the page has it, without what is gone.
    if (!found) return item;
    const signIn = signInOf(
      {
        active: item.active,
        hasPassword: Boolean(found.has_password),
        linkExpiresAt: found.link_expires_at === null ? null : new Date(found.link_expires_at),
        lastSignedInAt: found.last_signed_in_at ?? null,
        invitationPending: Boolean(found.invitation_pending),
      },
      localSignIn,
      now,
    );
    return {
      ...item,
      addedAt: found.created_at.toISOString(),
      signIn: {
        state: signIn.state,
        invitationExpiresAt: signIn.invitationExpiresAt?.toISOString() ?? null,
        lastSignedInAt: signIn.lastSignedInAt?.toISOString() ?? null,
        canResendInvitation: signIn.canResendInvitation,
      },
    };
  });
}

/** Every organization of the calling rep, active or not. A caller who is no rep gets an empty list. */
export async function listMyOrganizations(db: Db, auth: RequestAuth): Promise<SalesRepOrganization[]> {
  const rows = await listOrganizationsOfUser(db, auth.principal.userId);
  return rows.map((row) => ({
    organizationId: row.organization_id,
    organizationName: row.organization_name,
    identityOrganizationId: row.identity_organization_id,
    identityProviderUserId: row.identity_provider_user_id,
    organizationSalesRepId: row.assignment_id,
    salesRepId: row.sales_rep_id,
    repNumber: row.rep_number,
    firstName: row.first_name,
    lastName: row.last_name,
    email: row.email,
    phoneNumber: row.phone_number,
    active: row.active,
  }));
}

/** What a directory (SCIM) says of a rep it adds, beyond the API's body. */
export interface DirectoryAddition {
  /** The directory's own id of the person. */
  externalId?: string | undefined;
  /**
   * False: the rep is added inactive, in the one transaction: its identity provider user is made without the
   * organization's membership, and no welcome mail or sync grant is recorded (activating it grants and invites).
   */
  active?: boolean;
  /** 'sso': the organization signs its people in through its own IdP, so the welcome mail says so, with no password. */
  signIn?: 'sso' | undefined;
}

/** A rep to add, as the PUT body gives it, trimmed. */
interface NewRep {
  email: string;
  firstName: string;
  lastName: string;
  phoneNumber: string | null;
  repNumber: string;
  roles: string[];
}

function newRepOf(body: AddSalesRepBody): NewRep {
  return {
    email: body.email.trim(),
    firstName: body.firstName.trim(),
    lastName: body.lastName.trim(),
    phoneNumber: body.phoneNumber?.trim() ?? null,
    repNumber: body.repNumber,
    roles: body.roles ?? [ROLE_SALES_REP],
  };
}

/**
 * Adds a rep to the organization, reusing the rep (and its identity provider user) when one with that email
 * exists anywhere; records the provisioning, the welcome email and the data-sync grant in the same transaction.
 */
export async function addSalesRep(
  db: Db,
  identity: IdentityDirectory,
  organization: Organization,
  body: AddSalesRepBody,
  change: ChangeContext,
  directory: DirectoryAddition = {},
): Promise<AddSalesRepResponse> {
  const input = newRepOf(body);
  const identityProviderUserId = await identity.userIdFor(input);
  try {
    return await db.transaction().execute((trx) =>
      addInTransaction(trx, identity.name, organization, input, identityProviderUserId, change, {
        externalId: directory.externalId ?? null,
        sendInvitation: true,
        active: directory.active ?? true,
        signIn: directory.signIn,
      }),
    );
  } catch (error) {
    const constraint = uniqueViolationOf(error);
    if (constraint === 'organization_sales_rep_assignment_key') {
      throw conflict(
        'already-assigned',
        `A sales rep with email "${input.email}" is already in this organization.`,
      );
    }
    if (constraint === 'organization_sales_rep_rep_number_key') throw repNumberTaken(input.repNumber);
    throw error;
  }
}

/**
 * Adds many reps at once, all or none, each written, with its effects and event, as the PUT writes one. Before any
 * identity provider user is asked for, a request repeating an email (in any letter case) or a rep number is refused
 * (400), and so is one whose emails or numbers reps of the organization hold (409), each error naming its item
 * (`[3].email`). Without `sendInvitations` no welcome mail is recorded: the reps are marked until "Send
 * invitations". The answer lists the reps in the order sent.
 */
export async function addSalesReps(
  db: Db,
  identity: IdentityDirectory,
  organization: Organization,
  bodies: readonly AddSalesRepBody[],
  change: ChangeContext,
  options: { sendInvitations: boolean },
): Promise<AddSalesRepResponse[]> {
  const inputs = bodies.map(newRepOf);
  const repeated = repeatedWithin(inputs);
  if (repeated.length > 0) throw badRequest(describeInvalid('The reps', repeated), repeated);
  const taken = await takenByOrganization(db, organization.id, inputs);
  if (taken.length > 0) {
    const items = new Set(taken.map((error) => error.field.replace(/\..*$/, '')));
    throw new ProblemError(
      409,
      'reps-taken',
      `${items.size === 1 ? 'One rep has' : `${items.size} reps have`} the email or rep number of a rep of this organization.`,
      taken,
    );
  }
  const userIds = await inTurns(inputs, IDENTITY_CALLS_AT_ONCE, (input) => identity.userIdFor(input));
  // Written in email order, so that concurrent adds that share people lock them in the same order.
  const order = inputs
    .map((input, index) => ({ key: input.email.toLowerCase(), index }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(({ index }) => index);
  try {
    return await db.transaction().execute(async (trx) => {
      const answers: AddSalesRepResponse[] = new Array(inputs.length);
      for (const index of order) {
        answers[index] = await addInTransaction(
          trx,
          identity.name,
          organization,
          inputs[index] as NewRep,
          userIds[index] as string,
          change,
          { externalId: null, sendInvitation: options.sendInvitations },
        );
      }
      return answers;
    });
  } catch (error) {
    // A rep added between the check and this transaction: the request is refused as a whole, in the PUT's words.
    const constraint = uniqueViolationOf(error);
    if (constraint === 'organization_sales_rep_assignment_key') {
      throw conflict('already-assigned', 'One of the emails is already a sales rep of this organization.');
    }
    if (constraint === 'organization_sales_rep_rep_number_key') {
      throw conflict('rep-number-taken', 'One of the rep numbers is already used in this organization.');
    }
    throw error;
  }
}

/** How many identity provider users a bulk add asks for at once (an external provider limits its callers too). */
const IDENTITY_CALLS_AT_ONCE = 4;

/** `work` over the items, at most `atOnce` at a time; the answers in the items' order. */
async function inTurns<T, R>(
  items: readonly T[],
  atOnce: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const answers: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < items.length; index = next++) {
      answers[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(atOnce, items.length) }, worker));
  return answers;
}

/** The items that repeat an earlier item's email (in any letter case) or rep number. */
function repeatedWithin(inputs: readonly NewRep[]): FieldError[] {
  const errors: FieldError[] = [];
  const firstEmail = new Map<string, number>();
  const firstNumber = new Map<string, number>();
  inputs.forEach((input, index) => {
    const email = input.email.toLowerCase();
    const earlierEmail = firstEmail.get(email);
    if (earlierEmail === undefined) firstEmail.set(email, index);
    else errors.push({ field: `[${index}].email`, message: `repeats the email of [${earlierEmail}]` });
    const earlierNumber = firstNumber.get(input.repNumber);
    if (earlierNumber === undefined) firstNumber.set(input.repNumber, index);
    else
      errors.push({ field: `[${index}].repNumber`, message: `repeats the rep number of [${earlierNumber}]` });
  });
  return errors;
}

/** The items whose email or rep number a rep of the organization holds already. */
async function takenByOrganization(
  db: Db,
  organizationId: string,
  inputs: readonly NewRep[],
): Promise<FieldError[]> {
  const rows = await findAssignmentsTaking(
    db,
    organizationId,
    inputs.map((input) => input.email.toLowerCase()),
    inputs.map((input) => input.repNumber),
  );
  const emails = new Set(rows.map((row) => row.email_key));
  const numbers = new Set(rows.map((row) => row.rep_number));
  const errors: FieldError[] = [];
  inputs.forEach((input, index) => {
    if (emails.has(input.email.toLowerCase())) {
      errors.push({ field: `[${index}].email`, message: 'belongs to a sales rep of this organization' });
    }
    if (numbers.has(input.repNumber)) {
      errors.push({ field: `[${index}].repNumber`, message: 'is already used in this organization' });
    }
  });
  return errors;
}

/** One rep added in the caller's transaction: the person, the assignment, their effects and the event. */
async function addInTransaction(
  trx: Trx,
  identityProvider: string,
  organization: Organization,
  input: NewRep,
  identityProviderUserId: string,
  change: ChangeContext,
  options: {
    externalId: string | null;
    sendInvitation: boolean;
    active?: boolean;
    signIn?: 'sso' | undefined;
  },
): Promise<AddSalesRepResponse> {
  const active = options.active ?? true;
  // The person is shared only by its email and identity provider user; everything else written, answered and
  // sent below is this organization's own (docs/api.md, "Tenants and people").
  const { rep } = await insertOrFindSalesRep(trx, {
    id: newId(),
    email: input.email,
    identity_provider_user_id: identityProviderUserId,
    created_at: new Date(),
  });
  const assignment = await insertAssignment(trx, {
    id: newId(),
    organization_id: organization.id,
    sales_rep_id: rep.id,
    rep_number: input.repNumber,
    roles: input.roles,
    first_name: input.firstName,
    last_name: input.lastName,
    first_name_search: searchKey(input.firstName),
    last_name_search: searchKey(input.lastName),
    email: input.email,
    phone_number: input.phoneNumber,
    external_id: options.externalId,
    active,
    invitation_pending: active && !options.sendInvitation,
  });
  const effects: Effect[] = [
    {
      kind: 'identity.provision',
      payload: {
        identityProviderUserId: rep.identity_provider_user_id,
        email: assignment.email,
        firstName: assignment.first_name,
        lastName: assignment.last_name,
        identityOrganizationId: organization.identity_organization_id,
        roles: input.roles,
      },
    },
  ];
  // An inactive rep gets no welcome mail or sync grant until it is activated (which grants and invites).
  if (active) {
    if (options.sendInvitation) {
      const welcome = invitationEmail(organization, assignment);
      effects.push({
        kind: 'email.welcome',
        payload: options.signIn ? { ...welcome, signIn: options.signIn } : welcome,
      });
    }
    effects.push(syncGrant(organization.id, rep.id, assignment.rep_number, assignment.email));
  }
  await recordEffects(trx, { organizationId: organization.id, salesRepId: rep.id }, effects);
  await recordEvents(trx, change, organization.id, [
    {
      action: 'sales_rep.created',
      targets: repTargets(assignment),
      changes: created({
        email: assignment.email,
        firstName: assignment.first_name,
        lastName: assignment.last_name,
        phoneNumber: assignment.phone_number,
        repNumber: assignment.rep_number,
        roles: input.roles,
        active,
      }),
    },
  ]);
  return {
    organizationId: organization.id,
    organizationName: organization.name,
    organizationSalesRepId: assignment.id,
    salesRepId: rep.id,
    firstName: assignment.first_name,
    lastName: assignment.last_name,
    email: assignment.email,
    phoneNumber: assignment.phone_number,
    repNumber: assignment.rep_number,
    identityProvider,
    identityProviderUserId: rep.identity_provider_user_id,
  };
}

/** Active reps added without their invitation and not invited since. */
export function pendingInvitations(db: Db, organization: Organization): Promise<number> {
  return countPendingInvitations(db, organization.id);
}

/**
 * Mails the invitations held back by a bulk add, to at most LIMITS.bulkAdd reps (oldest first), each with the
 * welcome mail the PUT would have recorded and an `invitation.sent` event; answers how many were sent and how
 * many still wait. Concurrent sendings skip each other's reps, so none is invited twice.
 */
export async function sendPendingInvitations(
  db: Db,
  organization: Organization,
  change: ChangeContext,
): Promise<{ sent: number; pending: number }> {
  return db.transaction().execute(async (trx) => {
    const assignments = await lockPendingInvitations(trx, organization.id, LIMITS.bulkAdd);
    if (assignments.length > 0) {
      await clearInvitationPending(
        trx,
        assignments.map((assignment) => assignment.id),
      );
      for (const assignment of assignments) {
        await recordEffects(trx, { organizationId: organization.id, salesRepId: assignment.sales_rep_id }, [
          { kind: 'email.welcome', payload: invitationEmail(organization, assignment) },
        ]);
      }
      await recordEvents(
        trx,
        change,
        organization.id,
        assignments.map((assignment) => ({
          action: 'invitation.sent' as const,
          targets: repTargets(assignment),
          changes: {},
        })),
      );
    }
    return { sent: assignments.length, pending: await countPendingInvitations(trx, organization.id) };
  });
}

function syncGrant(organizationId: string, salesRepId: string, repNumber: string, email: string): Effect {
  return { kind: 'sync.grant', payload: { salesRepId, organizationId, repNumber, email } };
}

/** An assignment event's targets: the assignment, then the person. */
function repTargets(assignment: Pick<OrganizationSalesRepRow, 'id' | 'sales_rep_id'>): Target[] {
  return [
    { type: 'organization_sales_rep', id: assignment.id },
    { type: 'sales_rep', id: assignment.sales_rep_id },
  ];
}

function assignmentNotFound() {
  return notFound('No sales rep assignment with that organizationSalesRepId in this organization.');
}

/**
 * Changes the rep number; the data-sync system is told the new number. With `reassignCustomers` the customers
 * carrying the old number move to the new one in the same transaction. The same number again changes nothing.
 */
export async function changeRepNumber(
  db: Db,
  organization: Organization,
  body: ChangeRepNumberBody,
  change: ChangeContext,
): Promise<ChangeRepNumberResponse> {
  return db.transaction().execute((trx) => changeRepNumberInTransaction(trx, organization, body, change));
}

/** `changeRepNumber` inside a transaction the caller opened, so that it commits or is refused with the caller's. */
export async function changeRepNumberInTransaction(
  trx: Trx,
  organization: Organization,
  body: ChangeRepNumberBody,
  change: ChangeContext,
): Promise<ChangeRepNumberResponse> {
  try {
    const assignment = await findAssignmentForUpdate(trx, organization.id, body.organizationSalesRepId);
    if (!assignment) throw assignmentNotFound();
    if (assignment.rep_number !== body.repNumber) {
      await updateRepNumber(trx, assignment.id, body.repNumber);
      if (body.reassignCustomers) {
        await reassignCustomers(trx, organization.id, assignment.rep_number, body.repNumber);
      }
      if (assignment.active) {
        await recordEffects(trx, { organizationId: organization.id, salesRepId: assignment.sales_rep_id }, [
          syncGrant(organization.id, assignment.sales_rep_id, body.repNumber, assignment.email),
        ]);
      }
      await recordEvents(trx, change, organization.id, [
        {
          action: 'sales_rep.rep_number_changed',
          targets: repTargets(assignment),
          changes: { repNumber: { from: assignment.rep_number, to: body.repNumber } },
        },
      ]);
    }
    return {
      organizationId: organization.id,
      organizationSalesRepId: assignment.id,
      salesRepId: assignment.sales_rep_id,
      repNumber: body.repNumber,
      firstName: assignment.first_name,
      lastName: assignment.last_name,
      email: assignment.email,
      success: true as const,
    };
  } catch (error) {
    // The failed statement has aborted the transaction; the error thrown from here rolls all of it back.
    if (uniqueViolationOf(error) === 'organization_sales_rep_rep_number_key')
      throw repNumberTaken(body.repNumber);
    throw error;
  }
}

/** What an organization says of a rep besides the email and rep number, as the change of details takes it. */
export interface SalesRepDetails {
  firstName: string;
  lastName: string;
  phoneNumber: string | null;
  /** The organization's directory's own id of the person (SCIM `externalId`). */
  externalId: string | null;
}

/**
 * Changes the names, phone and directory id the organization keeps of a rep (its own, docs/api.md "Tenants and
 * people"), inside the caller's transaction; only a real change is written and recorded. No effect: the identity
 * provider user is shared by the person's organizations and keeps the names it was created with, and the data-sync
 * system holds none of these.
 */
export async function changeSalesRepDetailsInTransaction(
  trx: Trx,
  organization: Organization,
  assignmentId: string,
  details: SalesRepDetails,
  change: ChangeContext,
): Promise<void> {
  const next = {
    firstName: details.firstName.trim(),
    lastName: details.lastName.trim(),
    phoneNumber: details.phoneNumber?.trim() ?? null,
    externalId: details.externalId,
  };
  const assignment = await findAssignmentForUpdate(trx, organization.id, assignmentId);
  if (!assignment) throw assignmentNotFound();
  const changes = changesBetween(
    {
      firstName: assignment.first_name,
      lastName: assignment.last_name,
      phoneNumber: assignment.phone_number,
      externalId: assignment.external_id,
    },
    next,
  );
  if (Object.keys(changes).length === 0) return;
  await updateDetails(trx, assignment.id, {
    first_name: next.firstName,
    last_name: next.lastName,
    first_name_search: searchKey(next.firstName),
    last_name_search: searchKey(next.lastName),
    phone_number: next.phoneNumber,
    external_id: next.externalId,
  });
  await recordEvents(trx, change, organization.id, [
    { action: 'sales_rep.updated', targets: repTargets(assignment), changes },
  ]);
}

/**
 * Activates or deactivates an assignment. Only a real change records effects, so repeating a call sends nothing
 * more: deactivation revokes the membership and the sync permissions; activation restores both and re-invites.
 */
export async function setActive(
  db: Db,
  organization: Organization,
  assignmentId: string,
  active: boolean,
  change: ChangeContext,
): Promise<void> {
  await db
    .transaction()
    .execute((trx) => setActiveInTransaction(trx, organization, assignmentId, active, change));
}

/** `setActive` inside a transaction the caller opened, so that it commits or is refused with the caller's. */
export async function setActiveInTransaction(
  trx: Trx,
  organization: Organization,
  assignmentId: string,
  active: boolean,
  change: ChangeContext,
): Promise<void> {
  const assignment = await findAssignmentForUpdate(trx, organization.id, assignmentId);
  if (!assignment) throw assignmentNotFound();
  if (assignment.active === active) return;
  await updateActive(trx, assignment.id, active);
  await recordEvents(trx, change, organization.id, [
    {
      action: active ? 'sales_rep.activated' : 'sales_rep.deactivated',
      targets: repTargets(assignment),
      changes: { active: { from: !active, to: active } },
    },
  ]);
  const scope = { organizationId: organization.id, salesRepId: assignment.sales_rep_id };
  const membership = {
    identityProviderUserId: assignment.identity_provider_user_id,
    identityOrganizationId: organization.identity_organization_id,
  };
  await recordEffects(
    trx,
    scope,
    active
      ? [
          { kind: 'identity.grantMembership', payload: { ...membership, roles: assignment.roles } },
          {
            kind: 'email.reinvitation',
            payload: invitationEmail(organization, assignment),
          },
          syncGrant(organization.id, assignment.sales_rep_id, assignment.rep_number, assignment.email),
        ]
      : [
          { kind: 'identity.revokeMembership', payload: membership },
          {
            kind: 'sync.revoke',
            payload: { salesRepId: assignment.sales_rep_id, organizationId: organization.id },
          },
        ],
  );
}

/**
 * Removes the assignment. When it was the rep's last organization the rep record goes too, and its identity
 * provider user and data-sync account are deleted; otherwise only this organization's access is revoked.
 */
export async function removeSalesRep(
  db: Db,
  organization: Organization,
  assignmentId: string,
  change: ChangeContext,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const salesRepId = await lockSalesRepOfAssignment(trx, organization.id, assignmentId);
    const assignment = salesRepId && (await findAssignmentForUpdate(trx, organization.id, assignmentId));
    if (!assignment) throw assignmentNotFound();
    await deleteAssignment(trx, assignment.id);
    await recordEvents(trx, change, organization.id, [
      {
        action: 'sales_rep.removed',
        targets: repTargets(assignment),
        changes: removed({
          email: assignment.email,
          repNumber: assignment.rep_number,
          active: assignment.active,
        }),
      },
    ]);
    const remaining = await countAssignmentsOfSalesRep(trx, assignment.sales_rep_id);
    const effects: Effect[] = [
      {
        kind: 'identity.revokeMembership',
        payload: {
          identityProviderUserId: assignment.identity_provider_user_id,
          identityOrganizationId: organization.identity_organization_id,
        },
      },
    ];
    if (remaining === 0) {
      await deleteSalesRep(trx, assignment.sales_rep_id);
      effects.push(
        {
          kind: 'identity.deleteUser',
          payload: { identityProviderUserId: assignment.identity_provider_user_id },
        },
        { kind: 'sync.deleteAccount', payload: { salesRepId: assignment.sales_rep_id } },
      );
    } else {
      effects.push({
        kind: 'sync.revoke',
        payload: { salesRepId: assignment.sales_rep_id, organizationId: organization.id },
      });
    }
    await recordEffects(
      trx,
      { organizationId: organization.id, salesRepId: assignment.sales_rep_id },
      effects,
    );
  });
}
