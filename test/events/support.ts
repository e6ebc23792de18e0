import { expect } from 'vitest';
import type { TestService } from '../support/service.js';

export const EVENTS_URL = '/api/organizations/events';

export interface EventBody {
  id: string;
  occurredAt: string;
  action: string;
  actor: { type: string; id: string };
  targets: { type: string; id: string }[];
  organizationId: string;
  requestId: string | null;
  changes: Record<string, { from: unknown; to: unknown }>;
}

/** One page of events through the API; fails unless it answered 200. Answers the events and the next link. */
export async function eventPage(
  service: Pick<TestService, 'call'>,
  token: string,
  url = EVENTS_URL,
): Promise<{ events: EventBody[]; next: string | undefined }> {
  const response = await service.call('GET', url, token);
  expect(response.statusCode, response.body).toBe(200);
  const link = response.headers.link;
  const next = typeof link === 'string' ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined;
  if (link !== undefined) expect(next, String(link)).toBeDefined();
  return { events: response.json() as EventBody[], next };
}

/** Every event of the organization (following the next links), newest first. */
export async function allEvents(
  service: Pick<TestService, 'call'>,
  token: string,
  query = '',
): Promise<EventBody[]> {
  const events: EventBody[] = [];
  let url: string | undefined = `${EVENTS_URL}?pageSize=100${query}`;
  while (url !== undefined) {
    const page = await eventPage(service, token, url);
    events.push(...page.events);
    url = page.next;
  }
  return events;
}
