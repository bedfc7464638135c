// The replica planner of KubeFed's ReplicaSchedulingPreference: how many of `totalReplicas`
// each ready member cluster runs. Pure: no I/O, no clock; the same inputs give the same plan.
//
// Semantics (KubeFed's documented planner):
// - A cluster takes its own entry in `clusters`, else the "*" entry, else it gets nothing.
//   No entries at all means `{"*": {weight: 1}}` (an even spread).
// - Clusters are ranked by weight (highest first), ties broken by name, so the rounding
//   remainder and scarce minReplicas go to the same clusters every time.
// - Every cluster first gets its minReplicas (in rank order, while replicas remain); the rest
//   is shared by weight with fractions rounded up, capped by maxReplicas, repeating over the
//   clusters not yet at their maximum until nothing changes.
// - rebalance false: replicas already placed stay where they are when the total allows it;
//   a shortfall (a failed cluster's replicas, a scale-up) goes where the plan wants more than
//   is running, an excess is removed first where more is running than planned.

export interface ClusterPreferences {
  minReplicas?: number;
  maxReplicas?: number;
  weight?: number;
}

export type ReplicaPlan = Record<string, number>;

interface RankedCluster {
  name: string;
  min: number;
  max: number | undefined;
  weight: number;
}

/** The preferences that apply when a ReplicaSchedulingPreference names no cluster. */
export const evenSpread: Record<string, ClusterPreferences> = Object.freeze({ '*': Object.freeze({ weight: 1 }) }) as Record<string, ClusterPreferences>;

function rank(preferences: Record<string, ClusterPreferences> | undefined, readyClusters: string[]): RankedCluster[] {
  const prefs = preferences && Object.keys(preferences).length > 0 ? preferences : evenSpread;
  const ranked: RankedCluster[] = [];
  for (const name of new Set(readyClusters)) {
    const pref = prefs[name] ?? prefs['*'];
    if (!pref) continue;
    ranked.push({ name, min: Math.max(0, pref.minReplicas ?? 0), max: pref.maxReplicas, weight: Math.max(0, pref.weight ?? 0) });
  }
  return ranked.sort((a, b) => b.weight - a.weight || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The spread ignoring what runs today (what rebalance true converges to). */
function desiredPlan(total: number, ranked: RankedCluster[]): ReplicaPlan {
  const plan: ReplicaPlan = {};
  let remaining = Math.max(0, total);
  for (const c of ranked) {
    const min = Math.min(c.min, remaining, c.max ?? Infinity);
    plan[c.name] = min;
    remaining -= min;
  }
  let candidates = ranked.filter((c) => c.weight > 0 && (c.max === undefined || plan[c.name]! < c.max));
  let changed = true;
  while (changed && remaining > 0 && candidates.length > 0) {
    changed = false;
    const weightSum = candidates.reduce((sum, c) => sum + c.weight, 0);
    const toShare = remaining;
    const next: RankedCluster[] = [];
    for (const c of candidates) {
      const start = plan[c.name]!;
      let extra = Math.min(Math.ceil((toShare * c.weight) / weightSum), remaining);
      let planned = start + extra;
      if (c.max !== undefined && planned > c.max) {
        planned = c.max;
        extra = planned - start;
      }
      if (extra > 0) changed = true;
      remaining -= extra;
      plan[c.name] = planned;
      if (c.max === undefined || planned < c.max) next.push(c);
    }
    candidates = next;
  }
  return plan;
}

/**
 * Replicas per cluster for every ready cluster a preference applies to (0 included: the
 * cluster stays placed with no replicas). Clusters not ready are never in the plan, which is
 * what moves their replicas elsewhere (failover). `current` is what each cluster runs now.
 */
export function planReplicas(
  totalReplicas: number,
  preferences: Record<string, ClusterPreferences> | undefined,
  readyClusters: string[],
  current: Record<string, number> = {},
  rebalance = false,
): ReplicaPlan {
  const ranked = rank(preferences, readyClusters);
  const desired = desiredPlan(totalReplicas, ranked);
  if (rebalance || Object.keys(current).length === 0) return desired;

  // Keep what runs (within each cluster's maximum), then move only the difference.
  const kept: ReplicaPlan = {};
  let keptTotal = 0;
  for (const c of ranked) {
    const running = Math.max(0, Math.min(current[c.name] ?? 0, c.max ?? Infinity));
    kept[c.name] = running;
    keptTotal += running;
  }
  const total = Math.max(0, totalReplicas);
  if (keptTotal < total) {
    let missing = total - keptTotal;
    for (const c of ranked) {
      const add = Math.min(Math.max(0, desired[c.name]! - kept[c.name]!), missing);
      kept[c.name]! += add;
      missing -= add;
    }
    // Limits may leave the desired plan itself short; then the placement already kept is the best there is.
    return kept;
  }
  let excess = keptTotal - total;
  const lowestRankFirst = [...ranked].reverse();
  for (const c of lowestRankFirst) {
    const remove = Math.min(Math.max(0, kept[c.name]! - desired[c.name]!), excess);
    kept[c.name]! -= remove;
    excess -= remove;
  }
  for (const c of lowestRankFirst) {
    const remove = Math.min(kept[c.name]!, excess);
    kept[c.name]! -= remove;
    excess -= remove;
  }
  return kept;
}
