// SCIM PATCH (RFC 7644 §3.5.2) applied to a User's fields, with the forms Okta and Microsoft Entra ID send.
import { invalidPath, invalidValue, noTarget } from './errors.js';
import { type PatchOperation, SCIM_SCHEMA } from './schemas.js';
import { scimBoolean, scimString, type UserFields, workEntry } from './user-model.js';

type Op = 'add' | 'replace' | 'remove';

const CORE_PREFIX = `${SCIM_SCHEMA.user.toLowerCase()}:`;
const ENTERPRISE = SCIM_SCHEMA.enterpriseUser.toLowerCase();

// An attribute path: a name (or URN-qualified name), an optional value filter `[attr eq "value"]` or
// `[attr eq true]`, and an optional sub-attribute.
const PATH = /^([a-z][\w.:-]*?)(?:\[\s*(\w+)\s+eq\s+("[^"]*"|true|false)\s*\])?(?:\.(\w+))?$/i;

interface ParsedPath {
  attribute: string;
  filter: { attribute: string; value: string } | undefined;
  subAttribute: string | undefined;
}

function parsePath(path: string): ParsedPath {
  let text = path.trim();
  if (text.toLowerCase().startsWith(CORE_PREFIX)) text = text.slice(CORE_PREFIX.length);
  // The enterprise extension's attributes: `urn:…:enterprise:2.0:User:employeeNumber`.
  if (text.toLowerCase().startsWith(`${ENTERPRISE}:`)) {
    return { attribute: ENTERPRISE, filter: undefined, subAttribute: text.slice(ENTERPRISE.length + 1) };
  }
  if (text.toLowerCase() === ENTERPRISE)
    return { attribute: ENTERPRISE, filter: undefined, subAttribute: undefined };
  // Another schema's attribute (a directory's custom extension): not kept, so ignored.
  if (/^urn:/i.test(text)) return { attribute: '', filter: undefined, subAttribute: undefined };
  const match = PATH.exec(text);
  if (!match) throw invalidPath(`The path "${path}" is not a valid attribute path.`);
  const [, attribute = '', filterAttribute, filterValue, subAttribute] = match;
  const dotted = attribute.split('.');
  if (dotted.length > 2 || (dotted.length === 2 && (filterAttribute || subAttribute))) {
    throw invalidPath(`The path "${path}" is not a valid attribute path.`);
  }
  return {
    attribute: (dotted[0] ?? '').toLowerCase(),
    filter:
      filterAttribute && filterValue
        ? { attribute: filterAttribute.toLowerCase(), value: filterValue.replace(/^"|"$/g, '').toLowerCase() }
        : undefined,
    subAttribute: (dotted[1] ?? subAttribute)?.toLowerCase(),
  };
}

/** Whether a value filter of emails or phoneNumbers selects the one entry kept (the work one). */
function selectsWorkEntry(filter: ParsedPath['filter']): boolean {
  if (!filter) return true;
  return (
    (filter.attribute === 'type' && filter.value === 'work') ||
    (filter.attribute === 'primary' && filter.value === 'true')
  );
}

/**
 * Applies one operation at one path. Attributes this service does not keep are ignored (directories send all they
 * map); a path filter of another type than "work" selects nothing kept, and is ignored the same way.
 */
function applyAtPath(fields: UserFields, op: Op, path: string, value: unknown): void {
  const { attribute, filter, subAttribute } = parsePath(path);
  const removing = op === 'remove';
  switch (attribute) {
    case 'username':
      if (filter || subAttribute) throw invalidPath(`The path "${path}" is not a valid attribute path.`);
      fields.email = removing ? undefined : (scimString(value, 'userName') ?? undefined);
      return;
    case 'externalid':
      if (filter || subAttribute) throw invalidPath(`The path "${path}" is not a valid attribute path.`);
      fields.externalId = removing ? null : scimString(value, 'externalId');
      return;
    case 'active':
      if (filter || subAttribute) throw invalidPath(`The path "${path}" is not a valid attribute path.`);
      if (removing) throw invalidValue('active cannot be removed; set it to false to deactivate.');
      fields.active = scimBoolean(value, 'active');
      return;
    case 'name':
      applyToName(fields, op, subAttribute, value);
      return;
    case 'emails':
      applyToMultiValued(fields, op, 'emails', filter, subAttribute, value);
      return;
    case 'phonenumbers':
      applyToMultiValued(fields, op, 'phoneNumbers', filter, subAttribute, value);
      return;
    case ENTERPRISE:
      applyToEnterprise(fields, op, subAttribute, value);
      return;
    default:
      return;
  }
}

function applyToName(fields: UserFields, op: Op, subAttribute: string | undefined, value: unknown): void {
  const removing = op === 'remove';
  if (subAttribute === undefined) {
    if (removing) {
      fields.firstName = undefined;
      fields.lastName = undefined;
      return;
    }
    const name = objectValue(value, 'name');
    for (const [key, member] of Object.entries(name)) applyToName(fields, op, key.toLowerCase(), member);
    return;
  }
  const text = removing ? undefined : (scimString(value, `name.${subAttribute}`) ?? undefined);
  if (subAttribute === 'givenname') fields.firstName = text;
  else if (subAttribute === 'familyname') fields.lastName = text;
}

function applyToMultiValued(
  fields: UserFields,
  op: Op,
  attribute: 'emails' | 'phoneNumbers',
  filter: ParsedPath['filter'],
  subAttribute: string | undefined,
  value: unknown,
): void {
  if (!selectsWorkEntry(filter)) return;
  if (subAttribute !== undefined && subAttribute !== 'value') return;
  const isEmail = attribute === 'emails';
  const current = isEmail ? fields.email : fields.phoneNumber;
  // RFC 7644 §3.5.2.3: a replace whose value filter matches no value fails with noTarget.
  if (op === 'replace' && filter && (current === null || current === undefined)) {
    throw noTarget(`${attribute} has no value of type "work" to replace.`);
  }
  let next: string | null | undefined;
  if (op === 'remove') {
    next = isEmail ? undefined : null;
  } else if (subAttribute === 'value') {
    next = scimString(value, `${attribute}.value`);
  } else {
    // The whole attribute (an array of entries), or the filtered entry (one object).
    const entries = Array.isArray(value) ? value : [objectValue(value, attribute)];
    if (!entries.every((entry) => entry !== null && typeof entry === 'object')) {
      throw invalidValue(`${attribute} must hold objects with a value.`);
    }
    const entry = filter ? entries[0] : workEntry(entries as object[], attribute);
    if (entry === undefined) return;
    next = scimString((entry as { value?: unknown }).value ?? null, `${attribute}.value`);
  }
  if (isEmail) fields.email = next ?? undefined;
  else fields.phoneNumber = next ?? null;
}

function applyToEnterprise(
  fields: UserFields,
  op: Op,
  subAttribute: string | undefined,
  value: unknown,
): void {
  if (subAttribute === undefined) {
    if (op === 'remove') {
      fields.repNumber = undefined;
      return;
    }
    for (const [key, member] of Object.entries(objectValue(value, SCIM_SCHEMA.enterpriseUser))) {
      applyToEnterprise(fields, op, key, member);
    }
    return;
  }
  if (subAttribute.toLowerCase() !== 'employeenumber') return;
  fields.repNumber = op === 'remove' ? undefined : (scimString(value, 'employeeNumber') ?? undefined);
}

function objectValue(value: unknown, attribute: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidValue(`The value for ${attribute} must be an object.`);
  }
  return value as Record<string, unknown>;
}

function opOf(operation: PatchOperation): Op {
  const op = operation.op.toLowerCase();
  if (op === 'add' || op === 'replace' || op === 'remove') return op;
  throw invalidValue(`"${operation.op}" is not a PATCH operation; use add, replace or remove.`);
}

/**
 * Applies a PATCH's operations in order to a copy of the fields: with a `path`, at it; without one (add and
 * replace), each member of the value object at its own name, as Okta's `{"op":"replace","value":{"active":false}}`.
 * A remove needs a path (RFC 7644 §3.5.2.2: noTarget).
 */
export function applyPatch(fields: UserFields, operations: readonly PatchOperation[]): UserFields {
  const next = { ...fields };
  for (const operation of operations) {
    const op = opOf(operation);
    if (operation.path !== undefined && operation.path.trim() !== '') {
      if (op !== 'remove' && operation.value === undefined) {
        throw invalidValue(`The ${op} of "${operation.path}" has no value.`);
      }
      applyAtPath(next, op, operation.path, operation.value);
      continue;
    }
    if (op === 'remove') throw noTarget('A remove operation needs a path.');
    for (const [key, member] of Object.entries(objectValue(operation.value, 'an operation without a path'))) {
      applyAtPath(next, op, key, member);
    }
  }
  return next;
}
