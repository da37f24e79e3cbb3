import type { FastifySchema } from 'fastify';

/**
 * Use cases name a bad field in their own terms ('duration', 'answers/reason');
 * only the route knows whether it came in the body, the query string or the
 * path. The first segment of the path is looked up in the route's schemas, in
 * this order: a property of the body → 'body/duration', of the query string →
 * 'query/duration', of the path parameters → 'params/date'. A path that
 * already says where it is (Ajv's own, the HTTP layer's checks) stays as it is,
 * and so does one no schema knows.
 */
const LOCATED = /^(body|query|querystring|params|headers)(\/|$)/;
const LOCATIONS = [['body', 'body'], ['querystring', 'query'], ['params', 'params']] as const;

type Locate = (path: string) => string;
const locators = new WeakMap<object, Locate>();
const unchanged: Locate = (path) => path;

/** The property names of an object schema, through unions and intersections (a body that is one of several shapes). */
function propertiesOf(schema: unknown, into = new Set<string>()): Set<string> {
  if (schema === null || typeof schema !== 'object') return into;
  const s = schema as { properties?: object; anyOf?: unknown[]; oneOf?: unknown[]; allOf?: unknown[] };
  for (const key of Object.keys(s.properties ?? {})) into.add(key);
  for (const part of [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])]) propertiesOf(part, into);
  return into;
}

/** Adds the location to paths that have none, from the route's schema (undefined outside a route: paths stay). */
export function fieldLocator(schema: FastifySchema | undefined): Locate {
  if (!schema) return unchanged;
  let locate = locators.get(schema);
  if (!locate) {
    const known = LOCATIONS.map(([key, location]) => [location, propertiesOf(schema[key])] as const);
    locate = (path) => {
      if (LOCATED.test(path)) return path;
      const first = path.split('/', 1)[0]!;
      const found = known.find(([, properties]) => properties.has(first));
      return found ? `${found[0]}/${path}` : path;
    };
    locators.set(schema, locate);
  }
  return locate;
}
