import { invalidField } from '../domain/errors.js';

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;

/**
 * Cursors are opaque to clients: base64url JSON of the sort key of the last
 * item returned ([sortValue, id]), so pages stay stable while rows are added.
 */
export function encodeCursor(sortValue: number, id: string): string {
  return Buffer.from(JSON.stringify([sortValue, id])).toString('base64url');
}

const MIN_CURSOR_MS = -62_135_596_800_000; // 0001-01-01T00:00:00Z
const MAX_CURSOR_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

export function decodeCursor(cursor: string | undefined): { sortValue: number; id: string } | null {
  if (cursor === undefined || cursor === '') return null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(parsed) && parsed.length === 2 &&
      // Sort values are instants in ms: only years 0001-9999 (what the database can compare) are accepted.
      typeof parsed[0] === 'number' && Number.isInteger(parsed[0]) &&
      parsed[0] >= MIN_CURSOR_MS && parsed[0] <= MAX_CURSOR_MS &&
      typeof parsed[1] === 'string'
    ) {
      return { sortValue: parsed[0], id: parsed[1] };
    }
  } catch {
    // fall through to the 400 below
  }
  throw invalidField('cursor', 'is not a cursor this API returned');
}

/** Fetch limit+1 rows; the extra one only tells whether another page exists. */
export function toPage<R, T>(rows: R[], limit: number, map: (row: R) => T, cursorOf: (row: R) => string): Page<T> {
  const hasMore = rows.length > limit;
  const pageRows = hasMore ? rows.slice(0, limit) : rows;
  const last = pageRows[pageRows.length - 1];
  return { data: pageRows.map(map), nextCursor: hasMore && last !== undefined ? cursorOf(last) : null };
}

/** A cursor over a text sort key (names): base64url JSON of [text, id]. */
export function encodeTextCursor(sortValue: string, id: string): string {
  return Buffer.from(JSON.stringify([sortValue, id])).toString('base64url');
}

export function decodeTextCursor(cursor: string | undefined): { sortValue: string; id: string } | null {
  if (cursor === undefined || cursor === '') return null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'string' && typeof parsed[1] === 'string') {
      return { sortValue: parsed[0], id: parsed[1] };
    }
  } catch {
    // fall through to the 400 below
  }
  throw invalidField('cursor', 'is not a cursor this API returned');
}
