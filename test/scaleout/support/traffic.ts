import { REPS_URL } from '../../support/fixtures.js';

/** What the test knows of one assignment: absent (null), or its id, number and flag. */
export type AssignmentState = { id: string | undefined; repNumber: string; active: boolean } | null;

export interface TrackedAssignment {
  organizationId: string;
  identityOrganizationId: string;
  email: string;
  /** The state the last 2xx answer left it in. */
  state: AssignmentState;
  /**
   * A write whose answer was lost with the killed replica: it may or may not have committed. The assignment is left
   * alone afterwards, and its final state must be one of the two.
   */
  unanswered?: { operation: string; before: AssignmentState; after: AssignmentState };
  /** Adds and reactivations answered 2xx: each must have sent exactly one welcome, resp. re-invitation mail. */
  added: number;
  reactivated: number;
}

/** One request as the load balancer saw it. */
export interface Exchange {
  replica: number;
  operation: string;
  startedAt: number;
  endedAt: number;
  /** Undefined when no answer came (the connection broke or was refused). */
  status: number | undefined;
  detail: string;
}

export interface Replica {
  url: string;
}

/** Round-robin over the replicas still in rotation, as a load balancer does. */
export class Balancer {
  private next = 0;
  private readonly inRotation: Set<number>;

  constructor(readonly replicas: Replica[]) {
    this.inRotation = new Set(replicas.map((_, index) => index));
  }

  pick(): number {
    const candidates = [...this.inRotation].sort((a, b) => a - b);
    const chosen = candidates[this.next++ % candidates.length];
    if (chosen === undefined) throw new Error('no replica in rotation');
    return chosen;
  }

  /** Takes a replica out of rotation (its health check failed); requests already sent to it are not redirected. */
  remove(index: number): void {
    this.inRotation.delete(index);
  }
}

/** A small seeded generator (mulberry32), so a failing run can be repeated with the same choices. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ClientPlan {
  client: number;
  balancer: Balancer;
  /** The admin token of each organization, by organization id. */
  tokens: Map<string, string>;
  /** The assignments only this client changes, so that every 2xx answer tells their state exactly. */
  assignments: TrackedAssignment[];
  requests: number;
  startAt: number;
  durationMs: number;
  exchanges: Exchange[];
  /** What a list answered that this client's own committed writes contradict. */
  staleReads: string[];
}

interface Answer {
  status: number | undefined;
  body: unknown;
  detail: string;
}

/**
 * One client of the load balancer: `requests` requests spread evenly over `durationMs`, each a list or a change of
 * one of its own assignments chosen at random among those its state allows (add when absent; number change,
 * (de)activation or removal when present).
 */
export async function runClient(plan: ClientPlan): Promise<void> {
  const random = seededRandom(1000 + plan.client);
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)] as T;
  let repNumbers = 0;
  const newRepNumber = () => `S${plan.client}-${++repNumbers}`;

  const send = async (
    operation: string,
    method: string,
    token: string,
    body?: unknown,
    query = '',
  ): Promise<Answer> => {
    const replica = plan.balancer.pick();
    const startedAt = Date.now();
    let answer: Answer;
    try {
      const response = await fetch(`${plan.balancer.replicas[replica]?.url}${REPS_URL}${query}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await response.text();
      answer = {
        status: response.status,
        body: text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined,
        detail: response.ok ? '' : text.slice(0, 300),
      };
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      answer = { status: undefined, body: undefined, detail: cause?.code ?? cause?.message ?? String(error) };
    }
    plan.exchanges.push({
      replica,
      operation,
      startedAt,
      endedAt: Date.now(),
      status: answer.status,
      detail: answer.detail,
    });
    return answer;
  };

  const change = async (
    assignment: TrackedAssignment,
    operation: string,
    after: AssignmentState,
    request: () => Promise<Answer>,
  ) => {
    const before = assignment.state;
    const answer = await request();
    if (answer.status === undefined) {
      assignment.unanswered = { operation, before, after };
    } else if (answer.status >= 200 && answer.status < 300) {
      assignment.state = after;
      if (operation === 'add') {
        assignment.added++;
        const id = (answer.body as { organizationSalesRepId: string }).organizationSalesRepId;
        assignment.state = { id, repNumber: after?.repNumber ?? '', active: true };
      }
      if (operation === 'activate') assignment.reactivated++;
    }
  };

  const list = async () => {
    const organizationId = pick([...plan.tokens.keys()]);
    const token = plan.tokens.get(organizationId) ?? '';
    const answer = await send('list', 'GET', token, undefined, '?pageSize=100');
    if (answer.status !== 200) return;
    const listed = answer.body as {
      organizationSalesRepId: string;
      email: string;
      repNumber: string;
      active: boolean;
    }[];
    for (const assignment of plan.assignments) {
      if (assignment.organizationId !== organizationId || assignment.unanswered) continue;
      const found = listed.find((item) => item.email === assignment.email);
      const seen = found
        ? { id: found.organizationSalesRepId, repNumber: found.repNumber, active: found.active }
        : null;
      if (JSON.stringify(seen) !== JSON.stringify(assignment.state)) {
        plan.staleReads.push(
          `${assignment.email}: expected ${JSON.stringify(assignment.state)}, listed ${JSON.stringify(seen)}`,
        );
      }
    }
  };

  const step = async () => {
    const open = plan.assignments.filter((assignment) => !assignment.unanswered);
    if (open.length === 0 || random() < 0.15) return list();
    const assignment = pick(open);
    const token = plan.tokens.get(assignment.organizationId) ?? '';
    const state = assignment.state;
    if (state === null) {
      const repNumber = newRepNumber();
      return change(assignment, 'add', { id: undefined, repNumber, active: true }, () =>
        send('add', 'PUT', token, {
          firstName: 'Scale',
          lastName: `Client${plan.client}`,
          email: assignment.email,
          repNumber,
        }),
      );
    }
    const id = state.id ?? '';
    const roll = random();
    if (roll < 0.35) {
      const repNumber = newRepNumber();
      return change(assignment, 'change number', { ...state, repNumber }, () =>
        send('change number', 'PATCH', token, { organizationSalesRepId: id, repNumber }),
      );
    }
    if (roll < 0.75) {
      const operation = state.active ? 'deactivate' : 'activate';
      return change(assignment, operation, { ...state, active: !state.active }, () =>
        send(operation, 'POST', token, { organizationSalesRepId: id }, `/${operation}`),
      );
    }
    return change(assignment, 'remove', null, () =>
      send('remove', 'DELETE', token, undefined, `?organizationSalesRepId=${encodeURIComponent(id)}`),
    );
  };

  const interval = plan.durationMs / plan.requests;
  for (let n = 0; n < plan.requests; n++) {
    const due = plan.startAt + n * interval;
    const now = Date.now();
    // A machine too slow to keep the pace stops at the end of the run rather than running long.
    if (now > plan.startAt + plan.durationMs + 2000) break;
    if (due > now) await new Promise((resolve) => setTimeout(resolve, due - now));
    await step();
  }
}
