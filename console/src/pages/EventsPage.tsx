import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { type FormEvent, useId, useState } from 'react';
import type { operations } from '../../../client/index.js';
import { type Api, must } from '../api.js';
import { nextCursor } from '../logic/links.js';
import { ErrorMessage, Field, TableRegion } from '../ui/common.js';
import { Time } from '../ui/dates.js';
import { usePageTitle } from '../ui/page-title.js';
import { useUrlState } from '../ui/url-state.js';

type Query = NonNullable<operations['listEvents']['parameters']['query']>;
type Action = NonNullable<Query['action']>;
type Event = operations['listEvents']['responses'][200]['content']['application/json'][number];

// Every action of the API's list; a new one the API adds is a compile error here until it is listed.
const ACTIONS = Object.keys({
  'sales_rep.created': true,
  'sales_rep.rep_number_changed': true,
  'sales_rep.updated': true,
  'sales_rep.activated': true,
  'sales_rep.deactivated': true,
  'sales_rep.removed': true,
  'customer.created': true,
  'customer.updated': true,
  'customer.deleted': true,
  'customer.imported': true,
  'effect.retried': true,
  'webhook.created': true,
  'webhook.deleted': true,
  'webhook.secret_rotated': true,
  'webhook.disabled': true,
  'scim_token.created': true,
  'scim_token.revoked': true,
  'sign_in.succeeded': true,
  'sign_in.failed': true,
  'sign_in.refused': true,
  'password.set': true,
  'password.reset': true,
  'invitation.sent': true,
  'invitation.resent': true,
  'sso.connection_updated': true,
  'sso.connection_removed': true,
  'sso.setup_link_created': true,
} satisfies Record<Action, true>) as Action[];
const PAGE_SIZE = 50;
/**
 * The view a link or a reload keeps (the URL's query): the filters applied, and the cursors of the pages before
 * this one (base64url, joined by dots), which "Newer" goes back along.
 */
const VIEW = { action: '', actorId: '', targetId: '', since: '', until: '', trail: '' };

interface Filters {
  action: string;
  actorId: string;
  targetId: string;
  since: string;
  until: string;
}

/** The audit log: who did what and when, newest first, filtered by action, actor, target and time. */
export function EventsPage({ api }: { api: Api }) {
  usePageTitle('Audit log');
  const [view, setView] = useUrlState(VIEW);
  const filters: Filters = {
    action: view.action,
    actorId: view.actorId,
    targetId: view.targetId,
    since: view.since,
    until: view.until,
  };
  const [draft, setDraft] = useState<Filters>(filters);
  // Filters the URL brought (Back, a link) show in the form.
  const [applied, setApplied] = useState(filters);
  if (JSON.stringify(applied) !== JSON.stringify(filters)) {
    setApplied(filters);
    setDraft(filters);
  }
  const cursors: (string | undefined)[] = [undefined, ...(view.trail ? view.trail.split('.') : [])];
  const setCursors = (next: (string | undefined)[]) => setView({ trail: next.filter(Boolean).join('.') });
  const actionId = useId();
  const cursor = cursors[cursors.length - 1];
  const query: Query = {
    pageSize: PAGE_SIZE,
    ...(cursor ? { cursor } : {}),
    ...(filters.action ? { action: filters.action as Action } : {}),
    ...(filters.actorId.trim() ? { actorId: filters.actorId.trim() } : {}),
    // An import is one entry (its summary) unless its customers are asked for: by the import's id, or by an action.
    ...(filters.targetId.trim() ? { targetId: filters.targetId.trim() } : {}),
    ...(filters.targetId.trim() || filters.action ? {} : { collapseImports: true }),
    ...(filters.since ? { since: new Date(filters.since).toISOString() } : {}),
    ...(filters.until ? { until: new Date(filters.until).toISOString() } : {}),
  };
  const events = useQuery({
    queryKey: ['events', query],
    queryFn: async () => {
      const result = await api.GET('/api/organizations/events', { params: { query } });
      return { rows: must(result), next: nextCursor(result.response.headers.get('link')) };
    },
    placeholderData: keepPreviousData,
  });
  const apply = (event: FormEvent) => {
    event.preventDefault();
    setView({ ...draft, trail: '' });
  };
  const set = (name: keyof Filters) => (value: string) =>
    setDraft((current) => ({ ...current, [name]: value }));
  return (
    <>
      <h1>Audit log</h1>
      <form className="toolbar" onSubmit={apply} aria-label="Filter the audit log">
        <div>
          <label htmlFor={actionId}>Action</label>
          <select id={actionId} value={draft.action} onChange={(event) => set('action')(event.target.value)}>
            <option value="">Any</option>
            {ACTIONS.map((action) => (
              <option key={action} value={action}>
                {action}
              </option>
            ))}
          </select>
        </div>
        <Field
          label="Actor id"
          name="actorId"
          maxLength={256}
          value={draft.actorId}
          onChange={set('actorId')}
        />
        <Field
          label="Target id"
          name="targetId"
          maxLength={128}
          value={draft.targetId}
          onChange={set('targetId')}
        />
        <Field label="From" name="since" type="datetime-local" value={draft.since} onChange={set('since')} />
        <Field label="Until" name="until" type="datetime-local" value={draft.until} onChange={set('until')} />
        <button type="submit">Apply filters</button>
      </form>
      <ErrorMessage error={events.error} />
      <TableRegion label="Audit log events">
        <table className="cards" aria-busy={events.isFetching}>
          <caption className="muted">Events, newest first</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Action</th>
              <th scope="col">Actor</th>
              <th scope="col">Targets</th>
              <th scope="col">Changes</th>
            </tr>
          </thead>
          <tbody>
            {events.data?.rows.map((event) => (
              <EventRow
                key={event.id}
                event={event}
                onShowTarget={(targetId) => {
                  setView({ ...filters, action: '', targetId, trail: '' });
                }}
              />
            ))}
            {events.data?.rows.length === 0 && (
              <tr>
                <td colSpan={5}>No events match.</td>
              </tr>
            )}
          </tbody>
        </table>
      </TableRegion>
      <nav className="pager" aria-label="Pages">
        <span className="range">Page {cursors.length}</span>
        <button
          type="button"
          className="secondary"
          disabled={cursors.length <= 1}
          onClick={() => setCursors(cursors.slice(0, -1))}
        >
          Newer
        </button>
        <button
          type="button"
          className="secondary"
          disabled={events.isPlaceholderData || !events.data?.next}
          onClick={() => setCursors([...cursors, events.data?.next])}
        >
          Older
        </button>
      </nav>
    </>
  );
}

function EventRow({ event, onShowTarget }: { event: Event; onShowTarget: (targetId: string) => void }) {
  const importId = event.action === 'customer.imported' ? event.targets[0]?.id : undefined;
  return (
    <tr>
      <td data-label="When">
        <Time at={event.occurredAt} />
      </td>
      <td className="name">{event.action}</td>
      <td data-label="Actor">
        {event.actor.type}: {event.actor.id}
      </td>
      <td data-label="Targets">
        {event.targets.map((target) => (
          <div key={`${target.type}:${target.id}`}>
            {target.type} {target.id}
          </div>
        ))}
      </td>
      <td data-label="Changes">
        {Object.entries(event.changes).map(([field, change]) => (
          <div key={field}>
            {field}: {JSON.stringify(change.from)} → {JSON.stringify(change.to)}
          </div>
        ))}
        {importId && (
          <button type="button" className="secondary" onClick={() => onShowTarget(importId)}>
            Show each customer of this import
          </button>
        )}
      </td>
    </tr>
  );
}
