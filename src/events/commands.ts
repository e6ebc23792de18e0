// The `salesreps events` command and the change context of a CLI command.
import os from 'node:os';
import type { Db } from '../db/database.js';
import { findOrganizationByIdentityId } from '../organizations/queries.js';
import type { ChangeContext } from './record.js';
import { listEvents } from './service.js';

/** A thing the command names that does not exist. */
export class EventsCommandError extends Error {}

/** A change made by a CLI command: the actor is the OS user running it. */
export function cliChange(): ChangeContext {
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    // No passwd entry for the uid (some containers): the CLI is still the actor.
  }
  return { actor: { type: 'cli', id: user }, requestId: null };
}

/** `salesreps events list`: the organization's newest events, as the admin endpoint shows them, as JSON. */
export async function listEventsText(
  db: Db,
  options: { org: string; limit: number; action?: string | undefined },
): Promise<string> {
  const organization = await findOrganizationByIdentityId(db, options.org);
  if (!organization) {
    throw new EventsCommandError(`No organization with identity organization id "${options.org}".`);
  }
  const page = await listEvents(db, organization.id, {
    pageSize: options.limit,
    ...(options.action === undefined ? {} : { action: options.action }),
  });
  return JSON.stringify(page.items, null, 2);
}
