import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  containsInterval, intersectIntervals, normalizeIntervals, overlaps, subtractIntervals, unionIntervals,
} from '../../src/domain/intervals.js';
import type { Interval } from '../../src/domain/intervals.js';

const iv = (start: number, end: number): Interval => ({ start, end });

describe('normalizeIntervals', () => {
  it('sorts, merges overlapping and touching pieces, drops empty and inverted ones', () => {
    expect(normalizeIntervals([iv(5, 7), iv(1, 3), iv(3, 4), iv(9, 9), iv(12, 10), iv(6, 8)]))
      .toEqual([iv(1, 4), iv(5, 8)]);
  });
  it('keeps pieces separated by a gap apart', () => {
    expect(normalizeIntervals([iv(0, 1), iv(2, 3)])).toEqual([iv(0, 1), iv(2, 3)]);
  });
  it('handles empty input and NaN', () => {
    expect(normalizeIntervals([])).toEqual([]);
    expect(normalizeIntervals([iv(Number.NaN, 3)])).toEqual([]);
  });
  it('does not mutate or alias its input', () => {
    const input = [iv(3, 4), iv(1, 3)];
    const out = normalizeIntervals(input);
    out[0]!.end = 100;
    expect(input).toEqual([iv(3, 4), iv(1, 3)]);
  });
});

describe('set operations (examples)', () => {
  it('union merges touching pieces across lists', () => {
    expect(unionIntervals([iv(0, 2)], [iv(2, 4), iv(6, 7)])).toEqual([iv(0, 4), iv(6, 7)]);
  });
  it('intersect keeps only common parts; touching gives nothing', () => {
    expect(intersectIntervals([iv(0, 10), iv(20, 30)], [iv(5, 25)])).toEqual([iv(5, 10), iv(20, 25)]);
    expect(intersectIntervals([iv(0, 10)], [iv(10, 20)])).toEqual([]);
    expect(intersectIntervals([], [iv(0, 1)])).toEqual([]);
  });
  it('subtract cuts holes and leaves touching pieces alone', () => {
    expect(subtractIntervals([iv(0, 10)], [iv(2, 3), iv(5, 7)])).toEqual([iv(0, 2), iv(3, 5), iv(7, 10)]);
    expect(subtractIntervals([iv(0, 10)], [iv(10, 20)])).toEqual([iv(0, 10)]);
    expect(subtractIntervals([iv(0, 10)], [iv(-5, 15)])).toEqual([]);
    expect(subtractIntervals([iv(0, 4), iv(6, 10)], [iv(3, 7)])).toEqual([iv(0, 3), iv(7, 10)]);
  });
  it('overlaps is half-open', () => {
    expect(overlaps(iv(0, 10), iv(10, 20))).toBe(false);
    expect(overlaps(iv(0, 10), iv(9, 20))).toBe(true);
    expect(overlaps(iv(5, 5), iv(0, 10))).toBe(false);
  });
  it('containsInterval needs one piece to hold the whole interval', () => {
    const outer = [iv(0, 10), iv(20, 30)];
    expect(containsInterval(outer, iv(0, 10))).toBe(true);
    expect(containsInterval(outer, iv(20, 25))).toBe(true);
    expect(containsInterval(outer, iv(5, 25))).toBe(false);
    expect(containsInterval(outer, iv(-1, 5))).toBe(false);
    expect(containsInterval(outer, iv(3, 3))).toBe(false);
    expect(containsInterval([], iv(0, 1))).toBe(false);
  });
});

// Model: an interval list on small integers is the set of unit cells k with [k, k+1) covered.
const LIMIT = 40;
const cells = (list: readonly Interval[]): Set<number> => {
  const s = new Set<number>();
  for (const { start, end } of list) for (let k = start; k < end; k++) s.add(k);
  return s;
};
const sorted = (s: Set<number>) => [...s].sort((a, b) => a - b);
const arbInterval = fc.record({ start: fc.integer({ min: -2, max: LIMIT }), end: fc.integer({ min: -2, max: LIMIT }) });
const arbList = fc.array(arbInterval, { maxLength: 8 });

function expectNormalized(list: readonly Interval[]): void {
  list.forEach((piece, i) => {
    expect(piece.start).toBeLessThan(piece.end);
    const prev = list[i - 1];
    if (prev !== undefined) expect(piece.start).toBeGreaterThan(prev.end); // not even touching
  });
}

describe('set operations agree with a cell-set model', () => {
  it('normalize keeps the covered set and is normalized', () => {
    fc.assert(fc.property(arbList, (a) => {
      const n = normalizeIntervals(a);
      expectNormalized(n);
      expect(sorted(cells(n))).toEqual(sorted(cells(a)));
    }));
  });
  it('union', () => {
    fc.assert(fc.property(arbList, arbList, (a, b) => {
      const u = unionIntervals(a, b);
      expectNormalized(u);
      expect(sorted(cells(u))).toEqual(sorted(new Set([...cells(a), ...cells(b)])));
    }));
  });
  it('intersect', () => {
    fc.assert(fc.property(arbList, arbList, (a, b) => {
      const [na, nb] = [normalizeIntervals(a), normalizeIntervals(b)];
      const r = intersectIntervals(na, nb);
      expectNormalized(r);
      const cb = cells(b);
      expect(sorted(cells(r))).toEqual(sorted(cells(a)).filter((k) => cb.has(k)));
    }));
  });
  it('subtract', () => {
    fc.assert(fc.property(arbList, arbList, (a, b) => {
      const [na, nb] = [normalizeIntervals(a), normalizeIntervals(b)];
      const r = subtractIntervals(na, nb);
      expectNormalized(r);
      const cb = cells(b);
      expect(sorted(cells(r))).toEqual(sorted(cells(a)).filter((k) => !cb.has(k)));
    }));
  });
  it('overlaps and containsInterval', () => {
    fc.assert(fc.property(arbList, arbInterval, arbInterval, (a, x, y) => {
      const cx = cells([x]);
      expect(overlaps(x, y)).toBe([...cells([y])].some((k) => cx.has(k)));
      const ca = cells(a);
      const inside = x.end > x.start && [...cx].every((k) => ca.has(k));
      expect(containsInterval(normalizeIntervals(a), x)).toBe(inside);
    }));
  });
});
