import type { SerializerFactory } from '@fastify/fast-json-stringify-compiler';

/**
 * Validators and serializers that compile on their route's first request instead of at start.
 *
 * Fastify compiles every route's schemas while it gets ready: with ~100 routes, each documenting
 * several error statuses, Ajv's and fast-json-stringify's code generation took ~0.7 s of CPU and
 * ~10 MB of RSS before the first answer (first start, bench table 8), for routes most servers never
 * call in their first minutes, and some never. Compiled lazily, each is paid on first use, once.
 *
 * What is lost: a schema that cannot be compiled fails on its route's first request, not at start
 * (the route tests and the OpenAPI fuzz tests call every route).
 *
 *   app.setValidatorCompiler(compileOnFirstUse(({ schema }) => ajv.compile(schema)));
 *   Fastify({ schemaController: { compilersFactory: { buildSerializer: serializersOnFirstUse(SerializerSelector()) } } });
 */
type Validator = ((data: unknown) => unknown) & { errors?: unknown };
/** The validator as Fastify sees it: same call, same `errors`. */
type LikeValidator<V extends Validator> = ((data: unknown) => ReturnType<V>) & { errors?: V['errors'] };

export function compileOnFirstUse<R, V extends Validator>(compile: (route: R) => V): (route: R) => LikeValidator<V> {
  return (route) => {
    let compiled: V | undefined;
    // Fastify reads `errors` from the function it was given, right after calling it.
    const validate: LikeValidator<V> = (data) => {
      compiled ??= compile(route);
      const result = compiled(data) as ReturnType<V>;
      validate.errors = compiled.errors;
      return result;
    };
    return validate;
  };
}

/** Fastify's serializer factory (its default is fast-json-stringify's SerializerSelector()), each serializer built on first use. */
export function serializersOnFirstUse(factory: SerializerFactory): SerializerFactory {
  return (externalSchemas, options) => {
    const compile = factory(externalSchemas, options);
    return (route) => {
      let serialize: ((doc: unknown) => string) | undefined;
      return (doc) => (serialize ??= compile(route))(doc);
    };
  };
}
