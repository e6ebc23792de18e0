// The OpenID provider mounted in the app: discovery and every /oidc/ endpoint, answered by oidc-provider itself.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { default as Provider } from 'oidc-provider';
import type { Userinfo } from './userinfo.js';

/** How long a client or a cache may keep the discovery document, which changes only with the deployment. */
const DISCOVERY_MAX_AGE_SECONDS = 300;

export function providerRoutes(
  provider: () => Promise<Provider>,
  publicUrl: string,
  userinfo: Userinfo,
): FastifyPluginAsync {
  let callback: ReturnType<Provider['callback']> | undefined;
  const pinned = new URL(publicUrl);
  return async (app) => {
    // The provider answers its own requests: taken over before Fastify reads the body, with the headers the
    // service's hooks set so far (security headers, request id). Every URL it writes (discovery's endpoints, its
    // redirects) is built from the request's host: the host is PUBLIC_URL's whatever the client sent, so that a
    // forged Host or X-Forwarded-Host cannot point a client (or a cache) elsewhere.
    const forward = async (request: FastifyRequest, reply: FastifyReply) => {
      // Made before the reply is taken over: a provider that cannot be made is the service's usual error answer.
      const made = await provider();
      callback ??= made.callback();
      reply.hijack();
      for (const [name, value] of Object.entries(reply.getHeaders())) {
        if (value !== undefined) reply.raw.setHeader(name, value);
      }
      const headers = request.raw.headers;
      headers.host = pinned.host;
      delete headers['x-forwarded-host'];
      if (made.proxy) headers['x-forwarded-proto'] = pinned.protocol.slice(0, -1);
      if (request.routeOptions.url === '/.well-known/openid-configuration') {
        reply.raw.setHeader('cache-control', `public, max-age=${DISCOVERY_MAX_AGE_SECONDS}`);
      }
      await callback(request.raw, reply.raw);
    };
    // The provider answers CORS on its endpoints itself (a client's own redirect origins; discovery and keys to all).
    const providerRoute = {
      config: { policy: 'public' as const, cors: false as const },
      schema: { hide: true },
      onRequest: forward,
    };
    app.get('/.well-known/openid-configuration', providerRoute, async () => undefined);
    app.route({
      method: ['GET', 'POST', 'OPTIONS'],
      url: '/oidc/*',
      ...providerRoute,
      handler: async () => undefined,
    });
    // Userinfo is the service's (userinfo.ts), for the provider's JWT access tokens; the API's CORS applies.
    app.route({
      method: ['GET', 'POST'],
      url: '/oidc/me',
      config: { policy: 'public' },
      schema: { hide: true },
      handler: async (request, reply) => {
        const answer = await userinfo({
          authorization: request.headers.authorization,
          dpop: request.headers.dpop,
          method: request.method,
          path: request.url,
        });
        reply.header('cache-control', 'no-store');
        if (answer.challenge) reply.header('www-authenticate', answer.challenge);
        return reply.code(answer.status).send(answer.body);
      },
    });
  };
}
