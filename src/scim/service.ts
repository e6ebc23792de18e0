// The SCIM use-cases: tokens, and Users mapped onto the Sales Reps API's own use-cases (same rules, effects, events).

import { hashScimToken, newScimToken } from '../auth/scim-tokens.js';
import type { Db, Executor } from '../db/database.js';
import type { Organization } from '../db/schema.js';
import type { ChangeContext } from '../events/record.js';
import { recordEvents } from '../events/record.js';
import type { IdentityDirectory } from '../identity/port.js';
import { newId } from '../kernel/ids.js';
import { conflict, notFound, ProblemError, truncate } from '../kernel/problem.js';
import { lockBelowCap } from '../organizations/lock.js';
import {
  addSalesRep,
  changeRepNumberInTransaction,
  changeSalesRepDetailsInTransaction,
  removeSalesRep,
  setActiveInTransaction,
} from '../salesreps/service.js';
import { organizationsWithoutPasswords } from '../sso/queries.js';
import { mutability, ScimError, userNotFound } from './errors.js';
import { parseFilter } from './filter.js';
import { applyPatch } from './patch.js';
import {
  deleteScimToken,
  findUser,
  insertScimToken,
  listScimTokens,
  listUsers as selectUsers,
  updateLastRequest,
} from './queries.js';
import {
  type CreatedScimToken,
  type CreateScimTokenBody,
  type PatchOperation,
  SCIM_LIMITS,
  SCIM_SCHEMA,
  type ScimListQuery,
  type ScimTokenView,
  type ScimUser,
  type ScimUserBody,
  type ScimUserList,
} from './schemas.js';
import {
  type CheckedUserFields,
  checkUserFields,
  fieldsOfBody,
  fieldsOfRow,
  toScimUser,
} from './user-model.js';

// Tokens.

/** Creates a SCIM token for the organization's directory; the answer holds the secret, shown this once. */
export async function createScimToken(
  db: Db,
  organization: Organization,
  body: CreateScimTokenBody,
  change: ChangeContext,
): Promise<CreatedScimToken> {
  const token = newScimToken();
  return db.transaction().execute(async (trx) => {
    await lockBelowCap(trx, organization.id, {
      table: 'scim_token',
      most: SCIM_LIMITS.tokensPerOrganization,
      refusal: () =>
        conflict(
          'scim-token-limit-reached',
          `An organization has at most ${SCIM_LIMITS.tokensPerOrganization} SCIM tokens; revoke one first.`,
        ),
    });
    const row = await insertScimToken(trx, {
      id: newId(),
      organization_id: organization.id,
      description: body.description ?? null,
      token_hash: hashScimToken(token),
    });
    await recordEvents(trx, change, organization.id, [
      {
        action: 'scim_token.created',
        targets: [{ type: 'scim_token', id: row.id }],
        changes: { description: { from: null, to: row.description } },
      },
    ]);
    return {
      id: row.id,
      description: row.description,
      token,
      createdAt: new Date(row.created_at).toISOString(),
    };
  });
}

export async function listTokens(db: Executor, organizationId: string): Promise<ScimTokenView[]> {
  const rows = await listScimTokens(db, organizationId, SCIM_LIMITS.tokensPerOrganization);
  return rows.map((row) => {
    const lastUsedAt = row.last_used_at === null ? null : new Date(row.last_used_at).toISOString();
    return {
      id: row.id,
      description: row.description,
      createdAt: new Date(row.created_at).toISOString(),
      lastUsedAt,
      lastRequest:
        lastUsedAt === null || row.last_method === null || row.last_path === null || row.last_status === null
          ? null
          : {
              at: lastUsedAt,
              method: row.last_method,
              path: row.last_path,
              status: row.last_status,
              ...(row.last_scim_type === null ? {} : { scimType: row.last_scim_type }),
              ...(row.last_detail === null ? {} : { detail: row.last_detail }),
            },
    };
  });
}

/** A SCIM request as the token's last one is kept: the method, the path, the answer's status, an error's words. */
export interface ScimRequestOutcome {
  /** When the answer was sent. */
  at: Date;
  method: string;
  /** The request target under the base URL, query included (only its parameter names are kept). */
  target: string;
  status: number;
  error: { scimType?: string | undefined; detail?: string | undefined } | undefined;
}

/**
 * The path kept of a request target: the query's values dropped (a filter holds an email, a userName), its
 * parameter names kept, so that an admin sees `/Users?filter&count` for the directory's look-up.
 */
function recordedPath(target: string): string {
  const [path = '/', query] = target.split('?', 2);
  const names = query
    ? [...new Set(query.split('&').map((pair) => pair.split('=', 1)[0] ?? ''))].filter(Boolean)
    : [];
  return truncate(names.length > 0 ? `${path}?${names.join('&')}` : path, SCIM_LIMITS.recordedPath);
}

/** Keeps the request as the token's last one (overwriting the one before). */
export async function noteLastRequest(db: Executor, tokenId: string, outcome: ScimRequestOutcome) {
  await updateLastRequest(db, tokenId, {
    at: outcome.at,
    method: outcome.method,
    path: recordedPath(outcome.target),
    status: outcome.status,
    scimType: outcome.error?.scimType ? truncate(outcome.error.scimType, 40) : null,
    detail: outcome.error?.detail ? truncate(outcome.error.detail, SCIM_LIMITS.recordedDetail) : null,
  });
}

/** Revokes a token: it is deleted, so the next request carrying it is refused. */
export async function revokeScimToken(db: Db, organizationId: string, id: string, change: ChangeContext) {
  await db.transaction().execute(async (trx) => {
    if (!(await deleteScimToken(trx, organizationId, id))) {
      throw notFound('No SCIM token with that id in this organization.');
    }
    await recordEvents(trx, change, organizationId, [
      { action: 'scim_token.revoked', targets: [{ type: 'scim_token', id }], changes: {} },
    ]);
  });
}

// Users.

/** What the Users use-cases need besides the database. */
export interface ScimContext {
  db: Db;
  identity: IdentityDirectory;
  organization: Organization;
  change: ChangeContext;
  /** `PUBLIC_URL/scim/v2`: where each User's `meta.location` points. */
  baseUrl: string;
}

/** The use-cases' refusals in SCIM's words: a taken email or rep number is `uniqueness`, an unknown id 404. */
async function inScimTerms<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof ProblemError)) throw error;
    if (error.code === 'already-assigned') {
      throw new ScimError(
        409,
        'uniqueness',
        'A User with that userName already exists in this organization.',
      );
    }
    if (error.code === 'rep-number-taken') {
      throw new ScimError(409, 'uniqueness', 'That employeeNumber is already used in this organization.');
    }
    if (error.status === 404) throw userNotFound();
    throw error;
  }
}

async function readUser(context: ScimContext, id: string): Promise<ScimUser> {
  const row = await findUser(context.db, context.organization.id, id);
  if (!row) throw userNotFound();
  return toScimUser(row, context.baseUrl);
}

/**
 * POST /Users: the API's PUT (the person reused by email, the welcome mail, the provisioning and sync), in one
 * transaction. A User created inactive is added inactive: no access, welcome mail or sync grant, until activated.
 * Where the organization signs its people in only through its IdP, the welcome mail says to sign in with the
 * company account instead of asking for a password.
 */
export async function createUser(context: ScimContext, body: ScimUserBody): Promise<ScimUser> {
  const fields = checkUserFields(fieldsOfBody(body, true));
  const { db, identity, organization, change } = context;
  const withoutPasswords = await organizationsWithoutPasswords(db, [organization.identity_organization_id]);
  return inScimTerms(async () => {
    const added = await addSalesRep(
      db,
      identity,
      organization,
      {
        email: fields.email,
        firstName: fields.firstName,
        lastName: fields.lastName,
        phoneNumber: fields.phoneNumber,
        repNumber: fields.repNumber,
      },
      change,
      {
        externalId: fields.externalId ?? undefined,
        active: fields.active,
        signIn: withoutPasswords.has(organization.identity_organization_id) ? 'sso' : undefined,
      },
    );
    return readUser(context, added.organizationSalesRepId);
  });
}

export function getUser(context: ScimContext, id: string): Promise<ScimUser> {
  return readUser(context, id);
}

/** GET /Users: the filter's matches, a page of at most SCIM_LIMITS.pageSize from `startIndex` (1-based). */
export async function listUsers(context: ScimContext, query: ScimListQuery): Promise<ScimUserList> {
  const terms = query.filter === undefined ? [] : parseFilter(query.filter);
  const startIndex = Math.max(1, query.startIndex ?? 1);
  const count = Math.min(SCIM_LIMITS.pageSize, Math.max(0, query.count ?? SCIM_LIMITS.pageSize));
  const { rows, total } = await selectUsers(context.db, context.organization.id, terms, {
    offset: startIndex - 1,
    limit: count,
  });
  return {
    schemas: [SCIM_SCHEMA.listResponse],
    totalResults: total,
    startIndex,
    itemsPerPage: rows.length,
    Resources: rows.map((row) => toScimUser(row, context.baseUrl)),
  };
}

/**
 * Brings a rep to the fields asked for, through the API's use-cases, each only where something changes: the names,
 * phone and directory id, then the rep number, then the active flag. They run in one transaction, so a request is
 * done whole or refused whole: a part refused (a taken rep number) leaves no change, event or effect of the others.
 * The email is the person's identity, shared with the other organizations that have the person: it cannot change
 * (`mutability`), as the API cannot change it.
 */
async function changeUser(context: ScimContext, id: string, fields: CheckedUserFields): Promise<ScimUser> {
  const { db, organization, change } = context;
  const row = await findUser(db, organization.id, id);
  if (!row) throw userNotFound();
  const current = fieldsOfRow(row);
  if (fields.email.toLowerCase() !== current.email.toLowerCase()) {
    throw mutability('userName (the email) cannot change; remove the User and create it with the new email.');
  }
  return inScimTerms(async () => {
    await db.transaction().execute(async (trx) => {
      if (
        fields.firstName !== current.firstName ||
        fields.lastName !== current.lastName ||
        fields.phoneNumber !== current.phoneNumber ||
        fields.externalId !== current.externalId
      ) {
        await changeSalesRepDetailsInTransaction(trx, organization, id, fields, change);
      }
      if (fields.repNumber !== current.repNumber) {
        await changeRepNumberInTransaction(
          trx,
          organization,
          { organizationSalesRepId: id, repNumber: fields.repNumber },
          change,
        );
      }
      if (fields.active !== current.active) {
        await setActiveInTransaction(trx, organization, id, fields.active, change);
      }
    });
    return readUser(context, id);
  });
}

/**
 * PUT /Users/{id}: the User replaced by the body; attributes it leaves out that a rep may lack are cleared, and
 * `active` left out keeps its value.
 */
export async function replaceUser(context: ScimContext, id: string, body: ScimUserBody): Promise<ScimUser> {
  const row = await findUser(context.db, context.organization.id, id);
  if (!row) throw userNotFound();
  return changeUser(context, id, checkUserFields(fieldsOfBody(body, row.active)));
}

/** PATCH /Users/{id}: the operations applied to the User as it is, the outcome checked as a PUT's body. */
export async function patchUser(
  context: ScimContext,
  id: string,
  operations: readonly PatchOperation[],
): Promise<ScimUser> {
  const row = await findUser(context.db, context.organization.id, id);
  if (!row) throw userNotFound();
  return changeUser(context, id, checkUserFields(applyPatch(fieldsOfRow(row), operations)));
}

/** DELETE /Users/{id}: the API's DELETE (this organization's access revoked; the person gone with its last one). */
export async function deleteUser(context: ScimContext, id: string): Promise<void> {
  await inScimTerms(() => removeSalesRep(context.db, context.organization, id, context.change));
}
