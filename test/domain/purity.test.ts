import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';

// The domain must not read the clock or the machine's zone: every such API is named here,
// so a slip shows up as a failing test rather than as a bug that only appears under some TZ.
const FORBIDDEN: [RegExp, string][] = [
  [/\.get(FullYear|Month|Date|Day|Hours|Minutes|Seconds|Milliseconds|TimezoneOffset)\(/, 'local-zone Date getter'],
  [/\.set(FullYear|Month|Date|Hours|Minutes|Seconds|Milliseconds)\(/, 'local-zone Date setter'],
  [/Date\.now\(|new Date\(\)|performance\.now\(/, 'clock read'],
  [/Date\.parse\(|toLocale\w*\(/, 'zone-dependent parse or format'],
  [/process\.env|Math\.random\(/, 'environment or randomness'],
  [/from '(?!\.\/)[^']*'/, 'non-relative import'],
];

// Every file of the domain: it is pure by definition, whoever adds to it.
const dir = new URL('../../src/domain/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));

describe('domain purity', () => {
  it.each(files)('%s uses no clock, no local zone, no environment', (file) => {
    const source = readFileSync(new URL(file, dir), 'utf8');
    const code = source.replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
    for (const [pattern, what] of FORBIDDEN) expect(code, `${file}: ${what}`).not.toMatch(pattern);
  });
});
