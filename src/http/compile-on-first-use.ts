/**
 * A validator compiler whose validators compile on their first request instead of at start.
 *
 * Fastify compiles every route's schemas while it gets ready: with ~100 routes, Ajv's code
 * generation took ~0.4 s of CPU and ~5 MB of heap before the first answer (bench table 8's first
 * start), for routes most servers never call in their first minutes, and some never. Compiled
 * lazily, the cost moves to the first request of each route and is paid once.
 *
 * What is lost: a schema that Ajv cannot compile fails on its route's first request, not at start
 * (the route tests and the OpenAPI fuzz tests call every route).
 *
 *   app.setValidatorCompiler(compileOnFirstUse(({ schema }) => ajv.compile(schema)));
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
