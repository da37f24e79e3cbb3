import type { FastifyInstance, RouteOptions } from 'fastify';
import type { ErrorCode } from '../domain/errors.js';
import { STATUS_OF } from './problem.js';
import { COMPONENT } from './schemas/common.js';
import { codesOf, COMMON_ERRORS, PROBLEM_CODES, problemResponse } from './schemas/errors.js';

/**
 * What turns the route schemas into an OpenAPI document an SDK generator can
 * live on: the errors every route of a kind can give (documentCommonErrors),
 * named shapes as components (toComponents), and checks that every operation
 * has an operationId and described 2xx answers (the OpenAPI test asserts them).
 */

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const UNLIMITED = new Set(['/health', '/ready', '/metrics']);

/** The codes a route can answer whatever it does, from how it is declared. */
function commonCodes(route: RouteOptions): ErrorCode[] {
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const auth = route.config?.auth ?? 'none';
  const codes: ErrorCode[] = ['invalid_request']; // a bad or unknown parameter
  if (auth !== 'none') codes.push('unauthenticated');
  if (!UNLIMITED.has(route.url)) codes.push('rate_limited');
  if (methods.some((m) => BODY_METHODS.has(m))) codes.push('invalid_json', 'payload_too_large', 'unsupported_media_type');
  if (methods.includes('POST') && auth !== 'none') codes.push('idempotency_in_flight', 'idempotency_key_reused');
  return codes;
}

/**
 * Adds the common codes to every route that lists its errors with
 * errorResponses (routes that do not, such as the docs, are left alone).
 */
export function documentCommonErrors(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const response = route.schema?.response as Record<string, unknown> | undefined;
    if (!response || !(response.default as Record<string, unknown> | undefined)?.[COMMON_ERRORS]) return;
    const byStatus = new Map<number, ErrorCode[]>();
    for (const code of commonCodes(route)) byStatus.set(STATUS_OF[code], [...(byStatus.get(STATUS_OF[code]) ?? []), code]);
    for (const [status, codes] of byStatus) {
      const existing = response[status];
      if (existing !== undefined && codesOf(existing) === null) continue; // a route's own special answer (GET /ready's 503)
      response[status] = problemResponse(status, [...(codesOf(existing) ?? []), ...codes]);
    }
  });
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The schema without the keywords that do not change what it accepts, for comparing two uses of one name. */
function structure(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(structure);
  if (!isObject(v)) return v;
  const out: Json = {};
  for (const k of Object.keys(v).sort()) {
    if (!['description', 'example', 'examples', 'title'].includes(k)) out[k] = structure(v[k]);
  }
  return out;
}

/**
 * Moves every schema marked by named() into components/schemas and puts a
 * $ref in its place; a problem schema marked with its codes becomes
 * `allOf: [Problem, { code: enum }]`. Two different shapes under one name are
 * a bug in the schemas: it fails when the document is built.
 */
export function toComponents<T>(doc: T): T {
  const root = doc as Json;
  const components = ((root.components ??= {}) as Json);
  const schemas = ((components.schemas ??= {}) as Json);
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (!isObject(node)) return node;
    const out: Json = {};
    for (const [k, v] of Object.entries(node)) out[k] = walk(v);
    const codes = out[PROBLEM_CODES];
    if (Array.isArray(codes)) {
      delete out[PROBLEM_CODES];
      const problem = walk(out) as Json;
      return { allOf: [problem, { type: 'object', properties: { code: { type: 'string', enum: codes } } }] };
    }
    const name = out[COMPONENT];
    if (typeof name !== 'string') return out;
    delete out[COMPONENT];
    const known = schemas[name];
    if (known === undefined) schemas[name] = out;
    else if (JSON.stringify(structure(known)) !== JSON.stringify(structure(out))) {
      throw new Error(`Two different schemas are named ${name} in the OpenAPI document`);
    }
    return { $ref: `#/components/schemas/${name}` };
  };
  root.paths = walk(root.paths);
  return doc;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * OpenAPI only: the request body of a route that takes raw bytes (no JSON
     * schema validates them), as an OpenAPI requestBody-like `{ content, description }`.
     */
    documentedBody?: Record<string, unknown>;
  }
}
