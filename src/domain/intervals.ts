// Interval algebra on epoch milliseconds. Every interval is half-open [start, end):
// [09:00, 10:00) and [10:00, 11:00) touch but do not overlap, so a 09:00-10:00 booking
// leaves a 10:00 slot free. "Normalized" means: sorted by start, no empty pieces, and no
// two pieces overlapping or touching ([1,3) + [3,5) is stored as [1,5)).

export interface Interval {
  start: number;
  end: number;
}

/** Sort, drop empty/inverted pieces (end <= start, NaN), merge overlapping and touching ones. */
export function normalizeIntervals(list: readonly Interval[]): Interval[] {
  // filter() copies, so sorting never reorders the caller's array.
  const sorted = list.filter((i) => i.end > i.start).sort((a, b) => a.start - b.start);
  const out: Interval[] = [];
  for (const piece of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && piece.start <= last.end) {
      if (piece.end > last.end) last.end = piece.end;
    } else {
      out.push({ start: piece.start, end: piece.end });
    }
  }
  return out;
}

/** a ∪ b. Inputs may be in any order; the result is normalized. */
export function unionIntervals(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  return normalizeIntervals([...a, ...b]);
}

/**
 * a ∩ b for NORMALIZED inputs, in O(|a| + |b|): walk both lists and always advance the
 * piece that ends first, since it cannot meet anything later in the other list.
 * Example: [[0,10),[20,30)] ∩ [[5,25)] = [[5,10),[20,25)].
 */
export function intersectIntervals(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    const start = Math.max(x.start, y.start);
    const end = Math.min(x.end, y.end);
    if (start < end) out.push({ start, end });
    if (x.end < y.end) i++;
    else j++;
  }
  return out;
}

/**
 * a \ b for NORMALIZED inputs. Each piece of a is cut by the pieces of b that overlap it.
 * `first` only moves forward: a cut that ends before the current piece starts cannot touch
 * any later piece either, so the total work stays linear (plus the overlaps found).
 * Example: [[0,10)] \ [[2,3),[5,7)] = [[0,2),[3,5),[7,10)].
 */
export function subtractIntervals(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  let first = 0;
  for (const piece of a) {
    while (first < b.length && b[first]!.end <= piece.start) first++;
    let cursor = piece.start;
    for (let k = first; k < b.length && cursor < piece.end; k++) {
      const cut = b[k]!;
      if (cut.start >= piece.end) break;
      if (cut.start > cursor) out.push({ start: cursor, end: cut.start });
      if (cut.end > cursor) cursor = cut.end;
    }
    if (cursor < piece.end) out.push({ start: cursor, end: piece.end });
  }
  return out;
}

/** Half-open overlap: [0,10) and [10,20) do NOT overlap; an empty interval overlaps nothing. */
export function overlaps(a: Interval, b: Interval): boolean {
  return a.start < a.end && b.start < b.end && a.start < b.end && b.start < a.end;
}

/**
 * Is `inner` wholly inside ONE piece of the normalized `outer` list? Binary search for the
 * last piece starting at or before inner.start. An empty or inverted `inner` is never
 * contained: a zero-length booking is not a booking.
 */
export function containsInterval(outer: readonly Interval[], inner: Interval): boolean {
  if (!(inner.end > inner.start)) return false;
  let lo = 0;
  let hi = outer.length - 1;
  let candidate = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (outer[mid]!.start <= inner.start) {
      candidate = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  const piece = outer[candidate];
  return piece !== undefined && inner.end <= piece.end;
}
