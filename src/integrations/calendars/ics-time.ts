import ICAL from 'ical.js';
import { canonicalTimeZone, localToInstant } from '../../domain/zoned-time.js';

/**
 * iCalendar times -> epoch ms, without the process's TZ. A DATE-TIME is read
 * by the zone it names:
 *   ...Z                                  UTC
 *   TZID=Europe/Berlin (an IANA name)     that zone, through Intl (what every current system means by it)
 *   TZID=/mozilla.org/.../Europe/Berlin   the IANA name at its end
 *   TZID=W. Europe Standard Time          the VTIMEZONE of that name in the file, through ical.js
 *   no TZID ("floating")                  the provider's zone
 * A DATE (all-day) is the provider's local midnight.
 */
export type IcsZone =
  | { kind: 'utc' }
  | { kind: 'iana'; name: string }
  | { kind: 'vtimezone'; tz: ICAL.Timezone }
  | { kind: 'floating' };

const DAY_MS = 86_400_000;
const pad = (n: number, width = 2) => String(n).padStart(width, '0');

export const dateOf = (t: ICAL.Time): string => `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)}`;

/** The local reading as if it were UTC ("wall ms"): only for ordering and stepping, never an instant. */
export const wallMs = (t: ICAL.Time): number =>
  Date.UTC(t.year, t.month - 1, t.day, t.isDate ? 0 : t.hour, t.isDate ? 0 : t.minute, t.isDate ? 0 : t.second);

/** A floating ICAL.Time showing the given wall ms (date only when isDate). */
export function timeAtWall(ms: number, isDate: boolean): ICAL.Time {
  const d = new Date(ms);
  return ICAL.Time.fromData({
    year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(),
    ...(isDate ? {} : { hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds() }),
    isDate,
  });
}

export const daysBetween = (from: ICAL.Time, to: ICAL.Time): number =>
  Math.round((Date.UTC(to.year, to.month - 1, to.day) - Date.UTC(from.year, from.month - 1, from.day)) / DAY_MS);

/**
 * A property's time values (DTSTART, EXDATE, RDATE periods...), read from the
 * raw jCal without ical.js's own TZID lookup: that lookup rescans the whole
 * document for every value whose TZID has no VTIMEZONE (quadratic: 20,000
 * events took seconds). Zones come from ZoneResolver.zoneOf instead.
 */
export function timeValues(prop: ICAL.Property): (ICAL.Time | ICAL.Period)[] {
  return prop.jCal.slice(3).map((value: unknown) => {
    if (Array.isArray(value)) return ICAL.Period.fromJSON(value as [string, string], undefined as unknown as ICAL.Property, true);
    if (typeof value !== 'string') throw new TypeError(`${prop.name} is not a date or date-time`);
    return ICAL.Time.fromString(value, undefined as unknown as ICAL.Property);
  });
}

export function timeValue(prop: ICAL.Property): ICAL.Time {
  const [value] = timeValues(prop);
  if (!(value instanceof ICAL.Time)) throw new TypeError(`${prop.name} is not a date or date-time`);
  return value;
}

function ianaName(tzid: string): string | null {
  const direct = canonicalTimeZone(tzid);
  if (direct !== null) return direct;
  // "/mozilla.org/20070129_1/Europe/Berlin", "/softwarestudio.org/Olson_20011030_5/America/New_York"
  const tail = /([A-Za-z_]+\/[A-Za-z0-9_+-]+(?:\/[A-Za-z0-9_+-]+)?)$/.exec(tzid);
  return tail ? canonicalTimeZone(tail[1]!) : null;
}

/** Resolves TZIDs once per document: VTIMEZONE components by id, IANA names through Intl. */
export class ZoneResolver {
  private readonly cache = new Map<string, IcsZone>();
  private readonly vtimezones = new Map<string, ICAL.Component>();

  constructor(readonly providerZone: string, calendar: ICAL.Component) {
    for (const vtz of calendar.getAllSubcomponents('vtimezone')) {
      const id = vtz.getFirstPropertyValue('tzid');
      if (typeof id === 'string') this.vtimezones.set(id, vtz);
    }
  }

  /** The zone of a property's time value (DTSTART, EXDATE, ...). */
  zoneOf(time: ICAL.Time, prop: ICAL.Property): IcsZone {
    if (time.zone === ICAL.Timezone.utcTimezone) return { kind: 'utc' };
    const tzid = prop.getParameter('tzid');
    if (typeof tzid !== 'string' || tzid === '') return { kind: 'floating' };
    let zone = this.cache.get(tzid);
    if (zone === undefined) {
      const name = ianaName(tzid);
      const vtz = this.vtimezones.get(tzid);
      zone = name !== null
        ? { kind: 'iana', name }
        : vtz !== undefined
          ? { kind: 'vtimezone', tz: new ICAL.Timezone(vtz) }
          : { kind: 'floating' }; // an unknown zone with no definition: the provider's is the best guess
      this.cache.set(tzid, zone);
    }
    return zone;
  }

  /** The instant a time names, read in its zone (DATE values: the provider's local midnight). */
  toInstant(t: ICAL.Time, zone: IcsZone): number {
    if (t.isDate) return localToInstant(this.providerZone, dateOf(t), 0);
    const minutes = t.hour * 60 + t.minute;
    switch (zone.kind) {
      case 'utc':
        return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
      case 'iana':
        return localToInstant(zone.name, dateOf(t), minutes) + t.second * 1000;
      case 'vtimezone': {
        const local = ICAL.Time.fromData({ year: t.year, month: t.month, day: t.day, hour: t.hour, minute: t.minute, second: t.second, isDate: false }, zone.tz);
        return local.toUnixTime() * 1000;
      }
      case 'floating':
        return localToInstant(this.providerZone, dateOf(t), minutes) + t.second * 1000;
    }
  }

  /** Local midnight of a date in the provider's zone: all-day events cover whole local days. */
  dayStart(date: string): number {
    return localToInstant(this.providerZone, date, 0);
  }
}
