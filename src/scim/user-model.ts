// A SCIM User as the rep it stands for: read from a body, checked by the API's own field rules, shown as SCIM.
import type { OrganizationSalesRep } from '../db/schema.js';
import { compileValidator } from '../kernel/validation.js';
import { AddSalesRepBody } from '../salesreps/schemas.js';
import { invalidValue } from './errors.js';
import { SCIM_LIMITS, SCIM_SCHEMA, type ScimUser, type ScimUserBody } from './schemas.js';

/** What a User says of its rep; a field left undefined is missing (and refused, where a rep needs it). */
export interface UserFields {
  email: string | undefined;
  firstName: string | undefined;
  lastName: string | undefined;
  phoneNumber: string | null;
  active: boolean;
  externalId: string | null;
  repNumber: string | undefined;
}

/** A User's fields checked: everything a rep needs is there, within the API's limits. */
export type CheckedUserFields = UserFields & {
  email: string;
  firstName: string;
  lastName: string;
  repNumber: string;
};

/** Where the directory reads of each rep field, for the messages of a refusal. */
const ATTRIBUTE_OF_FIELD: Record<string, string> = {
  email: 'userName',
  firstName: 'name.givenName',
  lastName: 'name.familyName',
  phoneNumber: 'phoneNumbers[type eq "work"].value',
  repNumber: `employeeNumber (${SCIM_SCHEMA.enterpriseUser})`,
};

// The Sales Reps API's own body schema: a User's fields meet exactly the limits a PUT's do.
const checkAsAddBody = compileValidator(AddSalesRepBody, 'body');

/** Whether the text holds a control character (C0, DEL, C1), refused in an externalId as in every name of the API. */
function hasControlCharacter(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code <= 0x1f || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}

/** Refuses a User whose fields a PUT of the API would refuse, naming the SCIM attributes. */
export function checkUserFields(fields: UserFields): CheckedUserFields {
  const verdict = checkAsAddBody({
    email: fields.email,
    firstName: fields.firstName,
    lastName: fields.lastName,
    phoneNumber: fields.phoneNumber,
    repNumber: fields.repNumber,
  });
  if (verdict !== true) {
    const entries = (verdict.error.errors ?? []).map(
      (entry) => `${ATTRIBUTE_OF_FIELD[entry.field] ?? entry.field} ${entry.message}`,
    );
    throw invalidValue(`The User is not valid: ${entries.join('; ')}.`);
  }
  const { externalId } = fields;
  if (
    externalId !== null &&
    (externalId.length === 0 || externalId.length > SCIM_LIMITS.externalId || hasControlCharacter(externalId))
  ) {
    throw invalidValue(
      `The User is not valid: externalId must be 1–${SCIM_LIMITS.externalId} characters without control characters.`,
    );
  }
  return fields as CheckedUserFields;
}

/** A SCIM boolean: true or false, or — as Microsoft Entra ID sends them — the strings "True" and "False". */
export function scimBoolean(value: unknown, attribute: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw invalidValue(`${attribute} must be true or false.`);
}

/** A SCIM string attribute's value, null meaning "none". */
export function scimString(value: unknown, attribute: string): string | null {
  if (value === null || typeof value === 'string') return value;
  throw invalidValue(`${attribute} must be a string.`);
}

interface MultiValuedEntry {
  value?: unknown;
  type?: unknown;
  primary?: unknown;
}

/** The entry of emails or phoneNumbers this service keeps: the work one, else the primary one, else a lone one. */
export function workEntry(
  entries: readonly MultiValuedEntry[],
  attribute: string,
): MultiValuedEntry | undefined {
  if (entries.length > SCIM_LIMITS.multiValued) {
    throw invalidValue(`${attribute} may hold at most ${SCIM_LIMITS.multiValued} values.`);
  }
  const typed = (type: unknown) => typeof type === 'string' && type.toLowerCase() === 'work';
  return (
    entries.find((entry) => typed(entry.type)) ??
    entries.find((entry) => entry.primary === true || entry.primary === 'True' || entry.primary === 'true') ??
    (entries.length === 1 && entries[0]?.type === undefined ? entries[0] : undefined)
  );
}

/**
 * The fields of a User body (POST, PUT). The work (or primary) email, when given, must be the userName: the email is
 * the person's one identity (docs/scim.md). Without `active`, `activeWhenAbsent` (a new User is active; a PUT keeps
 * the User's state, so that leaving the attribute out never reactivates anyone). Attributes not kept are ignored.
 */
export function fieldsOfBody(body: ScimUserBody, activeWhenAbsent: boolean): UserFields {
  const email = body.userName;
  const emailEntry = workEntry(body.emails ?? [], 'emails');
  if (
    emailEntry?.value !== undefined &&
    email !== undefined &&
    String(emailEntry.value).toLowerCase() !== email.toLowerCase()
  ) {
    throw invalidValue('The work email (emails[type eq "work"].value) must be the userName.');
  }
  const phoneEntry = workEntry(body.phoneNumbers ?? [], 'phoneNumbers');
  return {
    email,
    firstName: body.name?.givenName ?? undefined,
    lastName: body.name?.familyName ?? undefined,
    phoneNumber: phoneEntry?.value === undefined ? null : scimString(phoneEntry.value, 'phoneNumbers.value'),
    active: body.active === undefined ? activeWhenAbsent : scimBoolean(body.active, 'active'),
    externalId: body.externalId ?? null,
    repNumber: body[SCIM_SCHEMA.enterpriseUser]?.employeeNumber ?? undefined,
  };
}

/** The fields of a stored rep, as a PATCH starts from them. */
export function fieldsOfRow(row: OrganizationSalesRep): CheckedUserFields {
  return {
    email: row.email,
    firstName: row.first_name,
    lastName: row.last_name,
    phoneNumber: row.phone_number,
    active: row.active,
    externalId: row.external_id,
    repNumber: row.rep_number,
  };
}

/** The rep as a SCIM User (RFC 7643 §4.1 and the enterprise extension), with its meta. */
export function toScimUser(row: OrganizationSalesRep, baseUrl: string): ScimUser {
  return {
    schemas: [SCIM_SCHEMA.user, SCIM_SCHEMA.enterpriseUser],
    id: row.id,
    ...(row.external_id === null ? {} : { externalId: row.external_id }),
    userName: row.email,
    name: {
      givenName: row.first_name,
      familyName: row.last_name,
      formatted: `${row.first_name} ${row.last_name}`,
    },
    emails: [{ value: row.email, type: 'work', primary: true }],
    ...(row.phone_number === null
      ? {}
      : { phoneNumbers: [{ value: row.phone_number, type: 'work' as const, primary: true as const }] }),
    active: row.active,
    [SCIM_SCHEMA.enterpriseUser]: { employeeNumber: row.rep_number },
    meta: {
      resourceType: 'User',
      created: new Date(row.created_at).toISOString(),
      lastModified: new Date(row.updated_at ?? row.created_at).toISOString(),
      location: `${baseUrl}/Users/${row.id}`,
    },
  };
}
