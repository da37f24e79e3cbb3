// Closures: local dates (holidays) on which a provider's weekly hours count as a day off.
import type { LocalDate } from './zoned-time.js';

export interface Closure {
  date: LocalDate;
  recurrence: 'none' | 'yearly';
}

const isLeapYear = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

/**
 * Whether local date `date` is closed: an equal date, or a yearly closure with the same
 * month and day in any year. A yearly 29 February closure would otherwise vanish three years
 * in four, so in non-leap years it falls on 28 February:
 *   { date: '2028-02-29', recurrence: 'yearly' } closes 2027-02-28, 2028-02-29, 2029-02-28.
 */
export function isClosedOn(closures: readonly Closure[], date: LocalDate): boolean {
  const monthDay = date.slice(5);
  const isFeb28OfCommonYear = monthDay === '02-28' && !isLeapYear(Number(date.slice(0, 4)));
  for (const c of closures) {
    if (c.date === date) return true;
    if (c.recurrence !== 'yearly') continue;
    const closedMonthDay = c.date.slice(5);
    if (closedMonthDay === monthDay) return true;
    if (closedMonthDay === '02-29' && isFeb28OfCommonYear) return true;
  }
  return false;
}
