import diagnostics from 'node:diagnostics_channel';
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

/** A response whose status its route did not declare (STYLE.md point 2). */
export interface UndeclaredResponse {
  method: string;
  route: string;
  status: number;
}

export interface RouteContract {
  /** Every route of the app (HEAD twins of GET routes left out). */
  routes(): RecordedRoute[];
  /** Responses so far whose status the route did not declare; taking them empties the list. */
  takeUndeclared(): UndeclaredResponse[];
}

function declaredStatuses(route: RouteOptions): string[] {
  const response = (route.schema as { response?: Record<string, unknown> } | undefined)?.response;
  return response ? Object.keys(response) : [];
}

function declares(statuses: string[], status: number): boolean {
  return statuses.some((declared) => declared === String(status) || declared === `${String(status)[0]}xx`);
}

/**
 * Builds an app while listening on Fastify's `fastify.initialization` channel, which hands over the instance
 * before any route exists: an onRoute hook records every route, an onResponse hook notes each answer whose status
 * the route's schema does not declare. Neither changes what the app does.
 */
export async function buildWatched(
  build: () => Promise<FastifyInstance>,
): Promise<{ app: FastifyInstance; contract: RouteContract }> {
  const channel = diagnostics.channel('fastify.initialization');
  const registered: RouteOptions[] = [];
  const undeclared: UndeclaredResponse[] = [];
  let watched = false;
  const onInitialization = (message: unknown) => {
    if (watched) return;
    watched = true;
    const { fastify } = message as { fastify: FastifyInstance };
    fastify.addHook('onRoute', (route) => {
      registered.push(route);
    });
    fastify.addHook('onResponse', async (request, reply) => {
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
  };
  // Subscribed only while build() runs up to its first await, where buildApp creates the instance: an app that
  // another test builds at the same time in this process is never taken for this one.
  channel.subscribe(onInitialization);
  let building: Promise<FastifyInstance>;
  try {
    building = build();
  } finally {
    channel.unsubscribe(onInitialization);
  }
  const app = await building;
  if (!watched)
    throw new Error('The app was not created synchronously by build(): its routes were not watched');
  return {
    app,
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
    },
  };
}
