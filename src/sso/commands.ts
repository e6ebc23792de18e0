// The `salesreps sso` commands: an operator sets, shows and removes an organization's connection, and re-seals secrets.
import { Value } from '@sinclair/typebox/value';
import type { Db } from '../db/database.js';
import type { ChangeContext } from '../events/record.js';
import { ProblemError } from '../kernel/problem.js';
import { findOrganizationByIdentityId } from '../organizations/queries.js';
import { PutConnectionBody } from './schemas.js';
import {
  putConnection,
  removeConnection,
  resealSecrets,
  type SsoSettings,
  showConnection,
} from './service.js';

/** What the command names does not exist, or the service refused it: the message says why. */
export class SsoCommandError extends Error {}

async function organizationOf(db: Db, identityOrganizationId: string) {
  const organization = await findOrganizationByIdentityId(db, identityOrganizationId);
  if (!organization) {
    throw new SsoCommandError(`No organization with identity organization id "${identityOrganizationId}".`);
  }
  return organization;
}

/** A refusal of the use-case as the command line says it: its detail and the fields it names. */
async function refusalsAsErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof ProblemError)) throw error;
    const fields = (error.errors ?? []).map((field) => `\n  ${field.field}: ${field.message}`).join('');
    throw new SsoCommandError(`${error.detail}${fields}`);
  }
}

/** `salesreps sso set`: an OpenID Connect or SAML connection, as PUT /api/organizations/sso sets it; prints it. */
export async function setConnectionText(
  db: Db,
  settings: SsoSettings,
  change: ChangeContext,
  input: { org: string; body: unknown },
): Promise<string> {
  const body = input.body;
  if (!Value.Check(PutConnectionBody, body)) {
    const [first] = Value.Errors(PutConnectionBody, body);
    throw new SsoCommandError(
      `Not a valid connection: ${first?.path || 'body'} ${first?.message ?? ''}`.trim(),
    );
  }
  const organization = await organizationOf(db, input.org);
  const view = await refusalsAsErrors(() => putConnection(db, settings, organization, body, change));
  return JSON.stringify(view, null, 2);
}

/** `salesreps sso show`: the connection as GET shows it (never the secret). */
export async function showConnectionText(db: Db, settings: SsoSettings, org: string): Promise<string> {
  const organization = await organizationOf(db, org);
  return JSON.stringify(await refusalsAsErrors(() => showConnection(db, settings, organization)), null, 2);
}

/** `salesreps sso remove`: the connection goes; the organization's people sign in with passwords again. */
export async function removeConnectionText(
  db: Db,
  settings: SsoSettings,
  change: ChangeContext,
  org: string,
): Promise<string> {
  const organization = await organizationOf(db, org);
  await refusalsAsErrors(() => removeConnection(db, settings, organization, change));
  return `The single sign-on connection of ${org} is removed: its people sign in with a password again.`;
}

/** `salesreps sso reseal`: every secret sealed under an older key is sealed again under the first key. */
export async function resealText(db: Db, settings: SsoSettings): Promise<string> {
  const { resealed, total } = await resealSecrets(db, settings);
  return `Re-sealed ${resealed} of ${total} connection secret(s) under the first key.`;
}
