import { describe, expect, it } from 'vitest';
import { chooseHost, type RoundRobinCandidate } from '../../src/domain/round-robin.js';

const host = (providerId: string, extra: Partial<RoundRobinCandidate> = {}): RoundRobinCandidate =>
  ({ providerId, priority: 2, weight: 100, count: 0, lastCreatedAt: null, ...extra });

/** Plays n bookings one after another, each to the host the rule picks; returns how many each got. */
function play(hosts: RoundRobinCandidate[], n: number): Record<string, number> {
  const state = hosts.map((h) => ({ ...h }));
  for (let i = 0; i < n; i++) {
    const id = chooseHost(state)!;
    const chosen = state.find((h) => h.providerId === id)!;
    chosen.count += 1;
    chosen.lastCreatedAt = i;
  }
  return Object.fromEntries(state.map((h) => [h.providerId, h.count]));
}

describe('round robin', () => {
  it('no candidate: null', () => expect(chooseHost([])).toBeNull());

  it('the highest priority wins whatever the load', () => {
    expect(chooseHost([host('a', { count: 0 }), host('b', { priority: 3, count: 50 })])).toBe('b');
  });

  it('then the smallest count ÷ weight, exactly (no floating point)', () => {
    expect(chooseHost([host('a', { count: 1, weight: 1 }), host('b', { count: 1, weight: 2 })])).toBe('b');
    // 1/3 vs 2/6: equal, so the next rule decides (never booked first)
    expect(chooseHost([host('a', { count: 1, weight: 3, lastCreatedAt: 1 }), host('b', { count: 2, weight: 6, lastCreatedAt: null })])).toBe('b');
  });

  it('then the least recently booked (never booked first), then the smallest id', () => {
    expect(chooseHost([host('a', { lastCreatedAt: 10 }), host('b', { lastCreatedAt: 5 })])).toBe('b');
    expect(chooseHost([host('b'), host('a')])).toBe('a');
    expect(chooseHost([host('a', { lastCreatedAt: 1 }), host('c')])).toBe('c');
  });

  it('three equal hosts share 30 bookings 10 / 10 / 10', () => {
    expect(play([host('a'), host('b'), host('c')], 30)).toEqual({ a: 10, b: 10, c: 10 });
  });

  it('weights 1 : 2 share nine bookings 3 : 6', () => {
    expect(play([host('a', { weight: 1 }), host('b', { weight: 2 })], 9)).toEqual({ a: 3, b: 6 });
  });
});
