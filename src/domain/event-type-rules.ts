// Every cross-field rule of an event type (contract v2, "Event types"), checked when a type
// is written. Paths have no 'body/' prefix: 'durations/1', 'hosts/0/weight'.
import { validateQuestions } from './answers.js';
import type { Question } from './answers.js';
import type { BookingWindow } from './change-rules.js';
import type { BookingLimits } from './limits.js';
import { isValidLocalDate } from './zoned-time.js';

export interface EventTypeRulesInput {
  hosts: { providerId: string; priority?: number; weight?: number }[];
  assignment: 'single' | 'roundRobin' | 'collective';
  durations: number[];
  slotInterval?: number;
  bufferBefore?: number;
  bufferAfter?: number;
  minimumNotice?: number;
  bookingWindow?: BookingWindow;
  limits?: BookingLimits;
  seats?: number;
  cancellationNotice?: number;
  questions?: Question[];
  slug: string;
  title: string;
}

interface Problem { path: string; message: string }

export const SLUG_PATTERN = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const MAX_NOTICE_MINUTES = 525_600; // a year

const isWhole = (n: unknown, min: number, max: number): n is number =>
  typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max;

/** Rules of the optional whole-number fields: [path, value, min, max, step]. */
function numberProblems(input: EventTypeRulesInput): Problem[] {
  const fields: [string, number | undefined, number, number, number][] = [
    ['bufferBefore', input.bufferBefore, 0, 240, 5],
    ['bufferAfter', input.bufferAfter, 0, 240, 5],
    ['minimumNotice', input.minimumNotice, 0, MAX_NOTICE_MINUTES, 1],
    ['cancellationNotice', input.cancellationNotice, 0, MAX_NOTICE_MINUTES, 1],
    ['seats', input.seats, 1, 1000, 1],
  ];
  const problems: Problem[] = [];
  for (const [path, value, min, max, step] of fields) {
    if (value === undefined) continue;
    if (!isWhole(value, min, max) || value % step !== 0) {
      problems.push({ path, message: `must be a whole number from ${min} to ${max}${step > 1 ? `, a multiple of ${step}` : ''}` });
    }
  }
  const interval = input.slotInterval;
  // A divisor of 1440 puts local midnight on the grid every day.
  if (interval !== undefined && !(isWhole(interval, 5, 1440) && 1440 % interval === 0)) {
    problems.push({ path: 'slotInterval', message: 'must be a divisor of 1440 of at least 5 (5, 10, 15, 20, 30, 45, 60, ...)' });
  }
  for (const key of ['perDay', 'perWeek', 'perMonth'] as const) {
    const limit = input.limits?.[key];
    if (limit !== undefined && !isWhole(limit, 1, Number.MAX_SAFE_INTEGER)) {
      problems.push({ path: `limits/${key}`, message: 'must be a positive whole number' });
    }
  }
  return problems;
}

function hostProblems(input: EventTypeRulesInput): Problem[] {
  const { hosts, assignment } = input;
  if (hosts.length < 1 || hosts.length > 50) return [{ path: 'hosts', message: 'must list 1 to 50 hosts' }];
  const problems: Problem[] = [];
  const seen = new Map<string, number>();
  hosts.forEach((h, i) => {
    const first = seen.get(h.providerId);
    if (first !== undefined) problems.push({ path: `hosts/${i}/providerId`, message: `repeats hosts/${first}` });
    else seen.set(h.providerId, i);
    if (h.priority !== undefined && !isWhole(h.priority, 0, 4)) problems.push({ path: `hosts/${i}/priority`, message: 'must be a whole number from 0 to 4' });
    if (h.weight !== undefined && !isWhole(h.weight, 1, 1000)) problems.push({ path: `hosts/${i}/weight`, message: 'must be a whole number from 1 to 1000' });
  });
  if ((assignment === 'single') !== (hosts.length === 1)) {
    problems.push({ path: 'assignment', message: hosts.length === 1 ? 'must be "single" with one host' : '"single" needs exactly one host; use "roundRobin" or "collective"' });
  }
  return problems;
}

function durationProblems(durations: readonly number[]): Problem[] {
  if (durations.length < 1 || durations.length > 10) return [{ path: 'durations', message: 'must list 1 to 10 durations' }];
  const problems: Problem[] = [];
  durations.forEach((d, i) => {
    if (!isWhole(d, 5, 1440) || d % 5 !== 0) problems.push({ path: `durations/${i}`, message: 'must be 5 to 1440 minutes, a multiple of 5' });
    else if (durations.indexOf(d) !== i) problems.push({ path: `durations/${i}`, message: `repeats durations/${durations.indexOf(d)}` });
  });
  return problems;
}

function windowProblems(window: BookingWindow | undefined): Problem[] {
  if (window === undefined) return [];
  if (window.type === 'rolling') {
    return isWhole(window.days, 1, 730) ? [] : [{ path: 'bookingWindow/days', message: 'must be a whole number from 1 to 730' }];
  }
  const problems: Problem[] = [];
  if (!isValidLocalDate(window.start)) problems.push({ path: 'bookingWindow/start', message: 'must be a date YYYY-MM-DD' });
  if (!isValidLocalDate(window.end)) problems.push({ path: 'bookingWindow/end', message: 'must be a date YYYY-MM-DD' });
  else if (problems.length === 0 && window.end < window.start) problems.push({ path: 'bookingWindow/end', message: 'must not be before start' });
  return problems;
}

/** Every problem found (empty = valid), in the order of the contract's fields. */
export function validateEventTypeRules(input: EventTypeRulesInput): Problem[] {
  const problems: Problem[] = [];
  if (typeof input.slug !== 'string' || input.slug.length > 64 || !SLUG_PATTERN.test(input.slug)) {
    problems.push({ path: 'slug', message: 'must be at most 64 lower-case letters and digits in words joined by single dashes, e.g. "intro-call-30"' });
  }
  if (typeof input.title !== 'string' || input.title.trim() === '' || [...input.title].length > 200) {
    problems.push({ path: 'title', message: 'must be 1 to 200 characters, not blank' });
  }
  problems.push(...hostProblems(input), ...durationProblems(input.durations), ...numberProblems(input));
  problems.push(...windowProblems(input.bookingWindow));
  if (input.seats !== undefined && input.seats > 1) {
    if (input.durations.length !== 1) problems.push({ path: 'seats', message: 'more than 1 seat needs exactly one duration' });
    if (input.assignment !== 'single') problems.push({ path: 'seats', message: 'more than 1 seat needs assignment "single"' });
  }
  if (input.questions !== undefined) problems.push(...validateQuestions(input.questions));
  return problems;
}
