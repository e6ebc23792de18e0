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
  /**
   * True when a route hidden from the OpenAPI document has this path: the router answers a URL it refuses before
   * choosing a route (an over-long parameter, a bad escape) with no route's hooks, so only the path tells.
   */
  isHiddenPath(path: string): boolean;
}

function declaredStatuses(route: RouteOptions): string[] {
  const response = (route.schema as { response?: Record<string, unknown> } | undefined)?.response;
  return response ? Object.keys(response) : [];
}

/** A route's URL as a pattern of paths: a parameter matches one segment, a wildcard the rest. */
function pathPattern(url: string): RegExp {
  const segments = url
    .split('/')
    .map((segment) =>
      segment.startsWith(':')
        ? '[^/]+'
        : segment === '*'
          ? '.*'
          : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    );
  return new RegExp(`^${segments.join('/')}$`);
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
  const hiddenPaths: RegExp[] = [];
  return {
    watch(app) {
      app.addHook('onRoute', (route) => {
        registered.push(route);
        if ((route.schema as { hide?: boolean } | undefined)?.hide && route.url !== '*')
          hiddenPaths.push(pathPattern(route.url));
      });
      app.addHook('onResponse', async (request, reply) => {
        // @fastify/cors's preflight route (`OPTIONS *`, for every path) is hidden too, yet held to what a
        // preflight answers (test/support/openapi-validator.ts).
        const preflightRoute = request.routeOptions.url === '*' && request.method === 'OPTIONS';
        if ((request.routeOptions.schema as { hide?: boolean } | undefined)?.hide && !preflightRoute)
          hiddenAnswers.add(request.id);
        if (request.is404) return;
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
      isHiddenPath: (path) => hiddenPaths.some((pattern) => pattern.test(path)),
    },
  };
}
