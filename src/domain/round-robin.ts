// Round-robin assignment: the contract's exact rule, so an assignment can be predicted and tested.

export interface RoundRobinCandidate {
  providerId: string;
  /** 0..4: higher first. */
  priority: number;
  /** 1..1000: a host with twice the weight gets twice the bookings. */
  weight: number;
  /** The host's live (held, pending, confirmed) bookings of the type created in the last 30 days. */
  count: number;
  /** When the host's latest booking of the type was created (epoch ms), or null if never. */
  lastCreatedAt: number | null;
}

/**
 * Among hosts that can take the slot: the highest priority; then the smallest
 * count ÷ weight (compared as count_a × weight_b < count_b × weight_a, exact in
 * integers); then the one whose latest booking was created longest ago (never
 * first); then the smallest providerId. null when there is no candidate.
 *
 *   chooseHost([{ providerId: 'a', priority: 2, weight: 1, count: 1, lastCreatedAt: 5 },
 *               { providerId: 'b', priority: 2, weight: 2, count: 1, lastCreatedAt: 9 }])  // 'b' (1/2 < 1/1)
 */
export function chooseHost(candidates: readonly RoundRobinCandidate[]): string | null {
  let best: RoundRobinCandidate | null = null;
  for (const c of candidates) if (best === null || before(c, best)) best = c;
  return best?.providerId ?? null;
}

function before(a: RoundRobinCandidate, b: RoundRobinCandidate): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  const load = a.count * b.weight - b.count * a.weight;
  if (load !== 0) return load < 0;
  if (a.lastCreatedAt !== b.lastCreatedAt) {
    if (a.lastCreatedAt === null) return true;
    if (b.lastCreatedAt === null) return false;
    return a.lastCreatedAt < b.lastCreatedAt;
  }
  return a.providerId < b.providerId;
}
