import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/**
 * What `npm start` loads is what it costs (bench table 8): clients of optional outside systems are
 * imported when configured and used, not at start. The check runs node with a resolve hook that
 * refuses those packages, then imports what src/main.ts imports at start.
 */
const OPTIONAL = ['openid-client', 'ioredis', 'nodemailer', '@aws-sdk/', '@googleapis/'];

const REFUSE_HOOK = `export async function resolve(specifier, context, next) {
  if (${JSON.stringify(OPTIONAL)}.some((p) => specifier.startsWith(p))) throw new Error('loaded at start: ' + specifier);
  return next(specifier, context);
}`;
const REGISTER = `data:text/javascript,${encodeURIComponent(
  `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(REFUSE_HOOK)}`)});`,
)}`;

function runRefusing(script: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', '--import', REGISTER, '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('modules loaded at start', () => {
  it('main.ts imports no optional client at start', () => {
    const modules = ['server.ts', 'features/demo/seed.ts', 'db/event-types-repo.ts', 'db/open.ts', 'db/embedded.ts'];
    const run = runRefusing(`await Promise.all(${JSON.stringify(modules.map((m) => `./src/${m}`))}.map((m) => import(m)));`);
    expect(run.stderr).not.toContain('loaded at start');
    expect(run.status).toBe(0);
  });

  it('openid-client is loaded on the first sign-in (the hook does catch a load)', () => {
    const run = runRefusing(`const issuer = await import('./src/integrations/oidc/openid-issuer.ts'); await issuer.newFlowSecrets();`);
    expect(run.stderr).toContain('loaded at start: openid-client');
    expect(run.status).not.toBe(0);
  });
});
