import { describe, expect, it } from 'vitest';
import { StatementNames } from '../../src/db/statement-names.js';

describe('StatementNames', () => {
  it('names a text the second time it is seen, and keeps that name', () => {
    const names = new StatementNames();
    expect(names.nameFor('SELECT 1')).toBeUndefined();
    const name = names.nameFor('SELECT 1');
    expect(name).toMatch(/^stmt_\d+$/);
    expect(names.nameFor('SELECT 1')).toBe(name);
  });

  it('gives every text its own name', () => {
    const names = new StatementNames();
    const texts = ['SELECT 1', 'SELECT 2', 'SELECT 3'];
    for (const t of texts) names.nameFor(t);
    const given = texts.map((t) => names.nameFor(t));
    expect(new Set(given).size).toBe(3);
    expect(given.every((n) => n !== undefined)).toBe(true);
  });

  it('names at most maxNamed texts and remembers at most maxSeen', () => {
    const names = new StatementNames(2, 3);
    for (const t of ['a', 'b', 'c', 'd']) names.nameFor(t); // d is not remembered (3 seen)
    expect([names.nameFor('a'), names.nameFor('b'), names.nameFor('c'), names.nameFor('d')]).toEqual(['stmt_0', 'stmt_1', undefined, undefined]);
    expect(names.nameFor('d')).toBeUndefined();
  });
});
