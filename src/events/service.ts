// The audit log's use-case: a filtered page of events and the cursor of the next.
import type { Executor } from '../db/database.js';
import { badRequest } from '../kernel/problem.js';
import { type EventFilter, type EventPosition, type EventRecord, selectEventsPage } from './queries.js';
import { EVENT_PAGE_SIZE, type EventView, type ListEventsQuery } from './schemas.js';

export interface EventPage {
  items: EventView[];
  /** The cursor of the next page; absent on the last. */
  next: string | undefined;
}

export function toEventView(row: EventRecord): EventView {
  return {
    id: row.id,
    // The position to the millisecond, as toISOString writes a date (the microseconds are the cursor's only).
    occurredAt: `${row.position.slice(0, 23)}Z`,
    action: row.action,
    actor: { type: row.actor_type, id: row.actor_id },
    targets: row.targets,
    organizationId: row.organization_id,
    requestId: row.request_id,
    changes: row.changes,
  };
}

/** The cursor: the last event's position, opaque to clients (base64url of its occurred_at and seq). */
function encodeCursor(position: EventPosition): string {
  return Buffer.from(`${position.occurredAt}|${position.seq}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): EventPosition {
  const [occurredAt = '', seq = '', ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (
    rest.length > 0 ||
    !/^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}$/.test(occurredAt) ||
    Number.isNaN(Date.parse(`${occurredAt}Z`)) ||
    !/^[1-9][0-9]{0,17}$/.test(seq)
  ) {
    throw badRequest('The request querystring is not valid: cursor.', [
      { field: 'cursor', message: 'is not a cursor this service gave out' },
    ]);
  }
  return { occurredAt, seq };
}

function timestamp(value: string | undefined, field: string): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw badRequest(`The request querystring is not valid: ${field}.`, [
      { field, message: 'must be a real date and time (RFC 3339)' },
    ]);
  }
  return date;
}

/** The filter a query asks for, checked: real dates, `since` before `until`. */
function eventFilter(query: Omit<ListEventsQuery, 'pageSize' | 'cursor'>): EventFilter {
  const since = timestamp(query.since, 'since');
  const until = timestamp(query.until, 'until');
  if (since && until && since >= until) {
    throw badRequest('The request querystring is not valid: until.', [
      { field: 'until', message: 'must be later than since' },
    ]);
  }
  return {
    action: query.action,
    actorId: query.actorId,
    targetId: query.targetId,
    since,
    until,
    collapseImports: query.collapseImports,
  };
}

/** A page of the organization's events, newest first, and the cursor of the next page when there is one. */
export async function listEvents(
  db: Executor,
  organizationId: string,
  query: ListEventsQuery,
): Promise<EventPage> {
  const pageSize = query.pageSize ?? EVENT_PAGE_SIZE.default;
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  const filter = eventFilter(query);
  // One more than the page tells whether a next page exists, without counting the rest.
  const rows = await selectEventsPage(db, organizationId, filter, after, pageSize + 1);
  const page = rows.slice(0, pageSize);
  const last = page[page.length - 1];
  return {
    items: page.map(toEventView),
    next:
      rows.length > pageSize && last
        ? encodeCursor({ occurredAt: last.position, seq: last.seq_text })
        : undefined,
  };
}
