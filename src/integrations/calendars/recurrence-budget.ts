import ICAL from 'ical.js';

/**
 * ical.js's recurrence iterator steps through candidate dates until one passes
 * the rule's BY* filters. A rule no date can pass (FREQ=DAILY;BYMONTH=2;
 * BYMONTHDAY=30) makes that search endless, and it is synchronous: one such
 * line in a fetched feed would freeze the whole server. So every candidate it
 * checks spends one step of a budget, and an empty budget throws out of the
 * search. The count is only active inside withRecurrenceBudget (parsing is
 * synchronous, so no other caller can run in between); outside it the iterator
 * behaves as shipped. The wrapped method is internal to ical.js: the version is
 * pinned, and test/integrations/calendars/ics-busy.test.ts proves the guard on
 * impossible rules.
 */
export class RecurrenceBudgetExceeded extends Error {
  override name = 'RecurrenceBudgetExceeded';
}

let remaining: number | null = null;

const WRAPPED = Symbol.for('booking-engine.recurrence-budget');
type CheckFn = (this: ICAL.RecurIterator) => boolean;
const proto = ICAL.RecurIterator.prototype as unknown as { check_contracting_rules: CheckFn & { [WRAPPED]?: true } };
if (!proto.check_contracting_rules[WRAPPED]) {
  const original = proto.check_contracting_rules;
  const counted: CheckFn & { [WRAPPED]?: true } = function (this: ICAL.RecurIterator) {
    if (remaining !== null && --remaining < 0) throw new RecurrenceBudgetExceeded('recurrence rules need too many steps to expand');
    return original.call(this);
  };
  counted[WRAPPED] = true;
  proto.check_contracting_rules = counted;
}

/**
 * Runs fn (synchronous) with at most `steps` recurrence candidate checks, and
 * throws RecurrenceBudgetExceeded past them. Nested calls share: an inner
 * budget (one rule) is also limited by, and charged to, the outer one (one
 * document); recurrenceStepsLeft() tells which ran out.
 */
export function withRecurrenceBudget<T>(steps: number, fn: () => T): T {
  const outer = remaining;
  const allowed = outer === null ? steps : Math.min(steps, outer);
  remaining = allowed;
  try {
    return fn();
  } finally {
    const used = allowed - Math.max(0, remaining ?? 0);
    remaining = outer === null ? null : outer - used;
  }
}

/** Steps left in the enclosing budget (Infinity outside any). */
export function recurrenceStepsLeft(): number {
  return remaining === null ? Number.POSITIVE_INFINITY : remaining;
}
