import { IcsError, parseIcsBusy } from './ics-busy.js';
import { CalendarInputError, CalendarSourceError, type CalendarProvider } from './provider.js';
import { parseSourceUrl, safeGet } from './safe-fetch.js';

/** An ICS feed: a URL (often with a secret token in it) serving RFC 5545 text. Read-only. */
export interface IcsConfig {
  url: string;
}

const MAX_URL_LENGTH = 2048;

export const icsProvider: CalendarProvider<IcsConfig> = {
  type: 'ics',

  parseConfig(input) {
    const raw = input.url;
    if (typeof raw !== 'string' || raw.trim() === '') throw new CalendarInputError('body/url', 'is required for an ICS calendar');
    if (raw.length > MAX_URL_LENGTH) throw new CalendarInputError('body/url', `must be at most ${MAX_URL_LENGTH} characters`);
    try {
      return { url: parseSourceUrl(raw).href };
    } catch (error) {
      throw new CalendarInputError('body/url', (error as Error).message);
    }
  },

  async fetchBusy(config, query, limits) {
    const text = await safeGet(new URL(config.url), {
      allowPrivateAddresses: limits.allowPrivateAddresses,
      timeoutMs: limits.timeoutMs,
      ...(limits.signal ? { signal: limits.signal } : {}),
    });
    try {
      return parseIcsBusy(text, query).busy;
    } catch (error) {
      if (error instanceof IcsError) throw new CalendarSourceError(error.message, 'invalid');
      throw error;
    }
  },
};
