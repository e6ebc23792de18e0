import type { FastifyInstance, RouteOptions } from 'fastify';

/** A route as the app registered it, read after start (plugins may still set its config while registering). */
export interface RecordedRoute {
  method: string;
  url: string;
  /** The route's `config.policy`; undefined when it declares none. */
  policy: string | undefined;
  /** The statuses its response schema declares, as numbers ("2xx"-style ranges are kept as text). */
  declaredStatuses: string[];
  /** Hidden from the OpenAPI document (`schema.hide`). */
  hidden: boolean;
}

/** A response whose status its route did not declare (`docs/api.md`, "Errors": every route declares every status it answers with). */
interface UndeclaredResponse {
  method: string;
  route: string;
  status: number;
}

export interface RouteContract {
  /** Every route of the app (HEAD twins of GET routes left out). */
  routes(): RecordedRoute[];
  /** Responses so far whose status the route did not declare; taking them empties the list. */
  takeUndeclared(): UndeclaredResponse[];
  /** True when the request of this id was answered by a route hidden from the OpenAPI document (once per id). */
  answeredHidden(requestId: unknown): boolean;
}

function declaredStatuses(route: RouteOptions): string[] {
  const response = (route.schema as { response?: Record<string, unknown> } | undefined)?.response;
  return response ? Object.keys(response) : [];
}

function declares(statuses: string[], status: number): boolean {
  return statuses.some((declared) => declared === String(status) || declared === `${String(status)[0]}xx`);
}

/**
 * Watches an app's routes and responses from the moment it exists (pass `watch` as the service's `onApp`): every
 * route it registers, and every response whose status its route did not declare.
 */
export function routeWatcher(): { watch(app: FastifyInstance): void; contract: RouteContract } {
  const registered: RouteOptions[] = [];
  const undeclared: UndeclaredResponse[] = [];
  const hiddenAnswers = new Set<string>();
  return {
    watch(app) {
      app.addHook('onRoute', (route) => {
        registered.push(route);
      });
      app.addHook('onResponse', async (request, reply) => {
        if (request.is404) return;
        if ((request.routeOptions.schema as { hide?: boolean } | undefined)?.hide)
          hiddenAnswers.add(request.id);
        const statuses = Object.keys(
          (request.routeOptions.schema as { response?: Record<string, unknown> } | undefined)?.response ?? {},
        );
        // Routes that declare no responses at all (the /docs page and its files) are held to that elsewhere.
        if (statuses.length > 0 && !declares(statuses, reply.statusCode)) {
          undeclared.push({
            method: request.method,
            route: request.routeOptions.url ?? request.url,
            status: reply.statusCode,
          });
        }
      });
    },
    contract: {
      routes: () =>
        registered
          .filter((route) => route.method !== 'HEAD')
          .map((route) => ({
            method: String(route.method),
            url: route.url,
            policy: route.config?.policy,
            declaredStatuses: declaredStatuses(route),
            hidden: Boolean((route.schema as { hide?: boolean } | undefined)?.hide),
          })),
      takeUndeclared: () => undeclared.splice(0),
      answeredHidden: (requestId) => typeof requestId === 'string' && hiddenAnswers.delete(requestId),
    },
  };
}
