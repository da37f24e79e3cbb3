import FindMyWay from 'find-my-way';
import type { FastifyInstance } from 'fastify';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/**
 * Fastify answers an unknown method on a known path with 404. The contract
 * wants 405 with an Allow header, so every route is mirrored into a second
 * router that only answers "which methods does this path have?".
 */
export function trackRoutes(app: FastifyInstance): (url: string) => string[] {
  const router = FindMyWay({ ignoreTrailingSlash: true });
  // A catch-all route (CORS answers OPTIONS on '*') matches every path, known or not: it must not
  // turn an unknown path's 404 into a 405. Its methods are added to the Allow of real paths only.
  const everywhere = new Set<string>();
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (route.url === '*' || route.url === '/*') {
      for (const method of methods) everywhere.add(method);
      return;
    }
    for (const method of methods) {
      if ((METHODS as readonly string[]).includes(method)) {
        try {
          router.on(method as (typeof METHODS)[number], route.url, () => {});
        } catch {
          // the same method and path twice (HEAD mirrors of GET): already tracked
        }
      }
    }
  });
  return (url: string) => {
    const path = url.split('?')[0] ?? url;
    const found = METHODS.filter((m) => router.find(m, path) !== null);
    if (found.length === 0) return [];
    return METHODS.filter((m) => found.includes(m) || everywhere.has(m));
  };
}
