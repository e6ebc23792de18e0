// The OpenID provider mounted in the app: discovery and every /oidc/ endpoint, answered by oidc-provider itself.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { default as Provider } from 'oidc-provider';

export function providerRoutes(provider: Provider): FastifyPluginAsync {
  const callback = provider.callback();
  return async (app) => {
    // The provider answers its own requests: taken over before Fastify reads the body, with the headers the
    // service's hooks set so far (security headers, request id).
    const forward = async (request: FastifyRequest, reply: FastifyReply) => {
      reply.hijack();
      for (const [name, value] of Object.entries(reply.getHeaders())) {
        if (value !== undefined) reply.raw.setHeader(name, value);
      }
      await callback(request.raw, reply.raw);
    };
    const providerRoute = {
      config: { policy: 'public' as const },
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
  };
}
