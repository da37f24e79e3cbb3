/**
 * The few parts of an OpenAPI 3.x document the fuzzer needs: every operation
 * with its parameters, JSON request body and responses, with local `$ref`s
 * ("#/components/...") resolved in place.
 */

export type Schema = Record<string, any>;

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required: boolean;
  schema: Schema;
}

export interface ResponseSpec {
  description?: string;
  /** media type -> schema (undefined when the media type declares none). */
  content?: Record<string, { schema?: Schema }>;
}

export interface Operation {
  method: string; // upper case
  path: string; // OpenAPI template, e.g. /v1/bookings/{id}
  id: string; // "POST /v1/bookings/{id}/confirm"
  parameters: Parameter[];
  body: { required: boolean; schema: Schema; mediaTypes: string[] } | null;
  responses: Record<string, ResponseSpec>;
  /** The other methods the same path has (for the 405 probe). */
  pathMethods: string[];
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

/** Replaces every local `$ref` by (a copy of) its target; cycles are cut with `{}`. */
export function derefDocument<T>(doc: T): T {
  const root = doc as unknown as Schema;
  const lookup = (ref: string): unknown => {
    if (!ref.startsWith('#/')) throw new Error(`Only local $refs are supported, got ${ref}`);
    let node: any = root;
    for (const raw of ref.slice(2).split('/')) {
      const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      node = node?.[key];
      if (node === undefined) throw new Error(`Unresolvable $ref ${ref}`);
    }
    return node;
  };
  const walk = (node: unknown, seen: string[]): unknown => {
    if (Array.isArray(node)) return node.map((n) => walk(n, seen));
    if (node === null || typeof node !== 'object') return node;
    const obj = node as Schema;
    if (typeof obj.$ref === 'string') {
      if (seen.includes(obj.$ref)) return {}; // recursive schema: accept anything below this point
      const { $ref, ...siblings } = obj;
      const target = walk(lookup($ref), [...seen, $ref]) as Schema;
      return Object.keys(siblings).length > 0 ? { ...target, ...(walk(siblings, seen) as Schema) } : target;
    }
    const out: Schema = {};
    for (const [k, v] of Object.entries(obj)) out[k] = walk(v, seen);
    return out;
  };
  return walk(doc, []) as T;
}

/** Every path + method of the document, in document order. */
export function operationsOf(rawDoc: Schema): Operation[] {
  const doc = derefDocument(rawDoc);
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries<Schema>(doc.paths ?? {})) {
    const pathMethods = HTTP_METHODS.filter((m) => item[m]).map((m) => m.toUpperCase());
    for (const m of HTTP_METHODS) {
      const op = item[m] as Schema | undefined;
      if (!op) continue;
      const params = new Map<string, Parameter>();
      for (const p of [...(item.parameters ?? []), ...(op.parameters ?? [])] as Schema[]) {
        params.set(`${p.in}:${p.name}`, {
          name: p.name,
          in: p.in,
          required: p.in === 'path' ? true : Boolean(p.required),
          schema: p.schema ?? {},
        });
      }
      const content = op.requestBody?.content as Record<string, { schema?: Schema }> | undefined;
      const jsonType = content ? Object.keys(content).find((t) => /json/i.test(t)) : undefined;
      ops.push({
        method: m.toUpperCase(),
        path,
        id: `${m.toUpperCase()} ${path}`,
        parameters: [...params.values()],
        body: content && jsonType
          ? { required: Boolean(op.requestBody.required), schema: content[jsonType]?.schema ?? {}, mediaTypes: Object.keys(content) }
          : null,
        responses: op.responses ?? {},
        pathMethods,
      });
    }
  }
  return ops;
}

/** The documented response for a status: exact, then "4XX"-style ranges, then default. */
export function responseFor(op: Operation, status: number): ResponseSpec | undefined {
  return op.responses[String(status)] ?? op.responses[`${String(status)[0]}XX`] ?? op.responses.default;
}
