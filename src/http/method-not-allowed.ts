// The methods each path answers to, for 405 with Allow instead of 404.
import type { FastifyInstance } from 'fastify';

/**
 * The methods each registered path answers to, so that a known path asked with another method gets 405 with
 * `Allow` instead of 404. Paths with parameters (`/api/customers/:customerNumber`) match any one segment there;
 * wildcard routes (a CORS preflight on `*`) say nothing about a path.
 */
export function methodsByPath(app: FastifyInstance): (path: string) => string[] {
  const routes: { pattern: RegExp; methods: string[] }[] = [];
  app.addHook('onRoute', (route) => {
    if (route.url.includes('*')) return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const pattern = new RegExp(
      `^${route.url
        .split('/')
        .map((segment) =>
          segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
        )
        .join('/')}$`,
    );
    routes.push({ pattern, methods });
  });
  return (path) => {
    const allowed = new Set<string>();
    for (const route of routes) {
      if (route.pattern.test(path)) for (const method of route.methods) allowed.add(method);
    }
    return [...allowed].sort();
  };
}
