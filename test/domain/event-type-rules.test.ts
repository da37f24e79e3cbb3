import { describe, expect, it } from 'vitest';
import { validateEventTypeRules } from '../../src/domain/event-type-rules.js';
import type { EventTypeRulesInput } from '../../src/domain/event-type-rules.js';

const base: EventTypeRulesInput = {
  hosts: [{ providerId: 'p1' }], assignment: 'single', durations: [30, 60], slug: 'intro-call', title: 'Intro call',
};
const team: Partial<EventTypeRulesInput> = { hosts: [{ providerId: 'p1' }, { providerId: 'p2' }], assignment: 'roundRobin' };
const pathsOf = (extra: Partial<EventTypeRulesInput>) => validateEventTypeRules({ ...base, ...extra }).map((p) => p.path);

describe('validateEventTypeRules', () => {
  it('accepts a minimal and a full valid type', () => {
    expect(pathsOf({})).toEqual([]);
    expect(pathsOf({
      ...team, hosts: [{ providerId: 'p1', priority: 0, weight: 1 }, { providerId: 'p2', priority: 4, weight: 1000 }],
      slotInterval: 45, bufferBefore: 240, bufferAfter: 0, minimumNotice: 525_600, cancellationNotice: 0,
      bookingWindow: { type: 'range', start: '2028-02-29', end: '2028-02-29' }, limits: { perDay: 1, perWeek: 5, perMonth: 20 },
      questions: [{ id: 'topic', label: 'Topic', type: 'select', options: ['a'] }], slug: 'a', title: 'x'.repeat(200),
    })).toEqual([]);
    expect(pathsOf({ seats: 8, durations: [90] })).toEqual([]);
  });
  it('checks hosts: 1 to 50, unique, priority 0..4, weight 1..1000', () => {
    expect(pathsOf({ hosts: [] })).toEqual(['hosts']);
    const many = Array.from({ length: 51 }, (_, i) => ({ providerId: `p${i}` }));
    expect(pathsOf({ hosts: many, assignment: 'collective' })).toEqual(['hosts']);
    expect(pathsOf({ hosts: many.slice(0, 50), assignment: 'collective' })).toEqual([]);
    expect(pathsOf({ ...team, hosts: [{ providerId: 'p1' }, { providerId: 'p1' }] })).toEqual(['hosts/1/providerId']);
    expect(pathsOf({ hosts: [{ providerId: 'p1', priority: 5, weight: 0 }] })).toEqual(['hosts/0/priority', 'hosts/0/weight']);
    expect(pathsOf({ hosts: [{ providerId: 'p1', priority: 1.5, weight: 1001 }] })).toEqual(['hosts/0/priority', 'hosts/0/weight']);
  });
  it('makes assignment "single" exactly when there is one host', () => {
    expect(pathsOf({ assignment: 'roundRobin' })).toEqual(['assignment']);
    expect(pathsOf({ ...team, assignment: 'single' })).toEqual(['assignment']);
    expect(pathsOf({ ...team, assignment: 'collective' })).toEqual([]);
  });
  it('checks durations: 1 to 10, unique, each 5..1440 and a multiple of 5', () => {
    expect(pathsOf({ durations: [] })).toEqual(['durations']);
    expect(pathsOf({ durations: Array.from({ length: 11 }, (_, i) => 5 * (i + 1)) })).toEqual(['durations']);
    expect(pathsOf({ durations: [30, 0, 1445, 32, 30, 1440, 5] })).toEqual(['durations/1', 'durations/2', 'durations/3', 'durations/4']);
  });
  it('checks slotInterval: a divisor of 1440, at least 5', () => {
    for (const ok of [5, 9, 20, 45, 160, 1440]) expect(pathsOf({ slotInterval: ok })).toEqual([]);
    for (const bad of [4, 3, 7, 50, 2880, 7.5]) expect(pathsOf({ slotInterval: bad })).toEqual(['slotInterval']);
  });
  it('checks buffers (0..240, multiples of 5) and notices (0..525600)', () => {
    expect(pathsOf({ bufferBefore: 7, bufferAfter: 245 })).toEqual(['bufferBefore', 'bufferAfter']);
    expect(pathsOf({ bufferBefore: -5 })).toEqual(['bufferBefore']);
    expect(pathsOf({ minimumNotice: 525_601, cancellationNotice: -1 })).toEqual(['minimumNotice', 'cancellationNotice']);
    expect(pathsOf({ minimumNotice: 0.5 })).toEqual(['minimumNotice']);
  });
  it('checks the booking window', () => {
    expect(pathsOf({ bookingWindow: { type: 'rolling', days: 1 } })).toEqual([]);
    expect(pathsOf({ bookingWindow: { type: 'rolling', days: 730 } })).toEqual([]);
    expect(pathsOf({ bookingWindow: { type: 'rolling', days: 0 } })).toEqual(['bookingWindow/days']);
    expect(pathsOf({ bookingWindow: { type: 'rolling', days: 731 } })).toEqual(['bookingWindow/days']);
    expect(pathsOf({ bookingWindow: { type: 'range', start: '2027-02-29', end: '2027-13-01' } })).toEqual(['bookingWindow/start', 'bookingWindow/end']);
    expect(pathsOf({ bookingWindow: { type: 'range', start: '2027-06-02', end: '2027-06-01' } })).toEqual(['bookingWindow/end']);
  });
  it('checks limits: positive whole numbers', () => {
    expect(pathsOf({ limits: { perDay: 0, perWeek: 1.5, perMonth: -1 } })).toEqual(['limits/perDay', 'limits/perWeek', 'limits/perMonth']);
    expect(pathsOf({ limits: {} })).toEqual([]);
  });
  it('checks seats: 1..1000; more than 1 needs one duration and assignment "single"', () => {
    expect(pathsOf({ seats: 0 })).toEqual(['seats']);
    expect(pathsOf({ seats: 1001, durations: [30] })).toEqual(['seats']);
    expect(pathsOf({ seats: 1 })).toEqual([]);
    expect(pathsOf({ seats: 2 })).toEqual(['seats']); // two durations
    expect(pathsOf({ ...team, seats: 2, durations: [30] })).toEqual(['seats']);
  });
  it('checks slug and title', () => {
    for (const ok of ['a', 'intro-call-30', 'x'.repeat(64)]) expect(pathsOf({ slug: ok })).toEqual([]);
    for (const bad of ['', 'Intro', '-a', 'a-', 'a--b', 'a_b', 'x'.repeat(65)]) expect(pathsOf({ slug: bad })).toEqual(['slug']);
    for (const bad of ['', '   ', 'x'.repeat(201)]) expect(pathsOf({ title: bad })).toEqual(['title']);
  });
  it('checks questions with their own paths', () => {
    expect(pathsOf({ questions: [{ id: 'a', label: 'A', type: 'select' }] })).toEqual(['questions/0/options']);
  });
});
