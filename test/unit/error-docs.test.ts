// docs/errors.md is the catalogue's public face: every code a client can
// receive has a row there, and no row names a code the server never sends.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE } from '../../src/domain/errors.js';

const docs = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const documented = new Set([...docs.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]!));

describe('docs/errors.md and the error catalogue', () => {
  it('documents every code of src/domain/errors.ts', () => {
    expect(Object.keys(ERROR_CATALOGUE).filter((code) => !documented.has(code))).toEqual([]);
  });

  it('documents no code the catalogue lacks', () => {
    expect([...documented].filter((code) => !(code in ERROR_CATALOGUE))).toEqual([]);
  });
});
