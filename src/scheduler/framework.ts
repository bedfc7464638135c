// The scheduling framework: plugins hook into named extension points, and schedulePod runs
// one pure scheduling cycle (PreFilter → Filter → PreScore → Score → NormalizeScore → pick a
// host) over a Snapshot. Nothing here talks to the API server; PostFilter (preemption),
// Reserve, Permit, PreBind and Bind are run by the scheduler loop around the pure cycle.
import type { NodeInfo, PodInfo, Snapshot } from './node-info.js';

export type Code = 'Success' | 'Error' | 'Unschedulable' | 'UnschedulableAndUnresolvable' | 'Wait' | 'Skip';

/** A plugin's verdict. `undefined` stands for Success everywhere, so the hot path allocates nothing. */
export interface Status {
  code: Code;
  /** Human reasons, counted by node in the FailedScheduling message ("2 Insufficient cpu"). */
  reasons: string[];
  plugin?: string;
}

export function status(code: Code, ...reasons: string[]): Status {
  return { code, reasons };
}

export const maxNodeScore = 100;

/** Per-cycle scratch space: PreFilter/PreScore results live here for Filter/Score to read. */
export class CycleState {
  private readonly data = new Map<string, unknown>();
  readonly skipFilter = new Set<string>();
  readonly skipScore = new Set<string>();
  constructor(readonly snapshot: Snapshot) {}
  read<T>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }
  write(key: string, value: unknown): void {
    this.data.set(key, value);
  }
  /** A copy for a what-if (preemption, nominated pods). Values are shared: plugins copy on write in addPod/removePod. */
  clone(): CycleState {
    const copy = new CycleState(this.snapshot);
    for (const [k, v] of this.data) copy.data.set(k, v);
    for (const name of this.skipFilter) copy.skipFilter.add(name);
    for (const name of this.skipScore) copy.skipScore.add(name);
    return copy;
  }
}

export interface PostFilterResult {
  nominatedNodeName?: string;
  status: Status;
}

export interface PermitResult {
  status?: Status;
  /** With status Wait: how long the pod may wait for allow() before it is rejected. */
  timeoutMs?: number;
}

export interface Plugin {
  readonly name: string;
  preFilter?(state: CycleState, pod: PodInfo): Status | undefined;
  filter?(state: CycleState, pod: PodInfo, node: NodeInfo): Status | undefined;
  /**
   * PreFilter extensions: keep PreFilter's cluster-wide state right when a what-if adds or
   * removes `other` on `node` (preemption victims, nominated pods). Must copy before changing.
   */
  addPod?(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo): void;
  removePod?(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo): void;
  /** Called when Filter found no node; `statuses` says why each node failed. */
  postFilter?(state: CycleState, pod: PodInfo, statuses: Map<string, Status>): Promise<PostFilterResult>;
  /** Skip status = this plugin has nothing to score for this pod. */
  preScore?(state: CycleState, pod: PodInfo, nodes: NodeInfo[]): Status | undefined;
  score?(state: CycleState, pod: PodInfo, node: NodeInfo): number;
  /** Rescales the raw scores (parallel to `nodes`) to [0, maxNodeScore] in place. */
  normalizeScore?(state: CycleState, pod: PodInfo, nodes: NodeInfo[], scores: number[]): void;
  reserve?(state: CycleState, pod: PodInfo, nodeName: string): Status | undefined;
  unreserve?(state: CycleState, pod: PodInfo, nodeName: string): void;
  permit?(state: CycleState, pod: PodInfo, nodeName: string): PermitResult | undefined;
  preBind?(state: CycleState, pod: PodInfo, nodeName: string): Promise<Status | undefined>;
  /** Skip status passes the pod on to the next Bind plugin. */
  bind?(state: CycleState, pod: PodInfo, nodeName: string): Promise<Status | undefined>;
}

export interface PluginConfig {
  plugin: Plugin;
  /** Score weight (default 1). */
  weight?: number;
}

export class Framework {
  readonly plugins: Plugin[];
  readonly preFilterPlugins: Plugin[];
  readonly filterPlugins: Plugin[];
  readonly postFilterPlugins: Plugin[];
  readonly preScorePlugins: Plugin[];
  readonly scorePlugins: { plugin: Plugin; weight: number }[];
  readonly reservePlugins: Plugin[];
  readonly permitPlugins: Plugin[];
  readonly preBindPlugins: Plugin[];
  readonly bindPlugins: Plugin[];

  constructor(configs: PluginConfig[]) {
    this.plugins = configs.map((c) => c.plugin);
    const having = (hook: keyof Plugin) => this.plugins.filter((p) => typeof p[hook] === 'function');
    this.preFilterPlugins = having('preFilter');
    this.filterPlugins = having('filter');
    this.postFilterPlugins = having('postFilter');
    this.preScorePlugins = having('preScore');
    this.scorePlugins = configs.filter((c) => c.plugin.score).map((c) => ({ plugin: c.plugin, weight: c.weight ?? 1 }));
    this.reservePlugins = having('reserve');
    this.permitPlugins = having('permit');
    this.preBindPlugins = having('preBind');
    this.bindPlugins = having('bind');
  }

  plugin(name: string): Plugin | undefined {
    return this.plugins.find((p) => p.name === name);
  }

  /** PreFilter for every plugin; the first failure ends the cycle. */
  runPreFilter(state: CycleState, pod: PodInfo): Status | undefined {
    for (const p of this.preFilterPlugins) {
      const s = p.preFilter!(state, pod);
      if (!s) continue;
      if (s.code === 'Skip') {
        state.skipFilter.add(p.name);
        continue;
      }
      s.plugin = p.name;
      return s;
    }
    return undefined;
  }

  /** All Filter plugins on one node, stopping at the first failure. */
  runFilter(state: CycleState, pod: PodInfo, node: NodeInfo): Status | undefined {
    const skip = state.skipFilter;
    for (const p of this.filterPlugins) {
      if (skip.size && skip.has(p.name)) continue;
      const s = p.filter!(state, pod, node);
      if (s && s.code !== 'Success' && s.code !== 'Skip') {
        s.plugin = p.name;
        return s;
      }
    }
    return undefined;
  }

  /**
   * Filter as if the pods nominated to this node (of at least this pod's priority) were
   * already there — the room preemption freed is theirs — and also without them, since
   * they may yet land elsewhere (Kubernetes' two passes).
   */
  runFilterWithNominatedPods(state: CycleState, pod: PodInfo, node: NodeInfo): Status | undefined {
    const nominated = state.snapshot.nominatedPodsFor(node.name, pod);
    if (nominated) {
      const withNominated = node.clone();
      const what = state.clone();
      for (const p of nominated) {
        withNominated.addPod(p);
        this.runAddPod(what, pod, p, withNominated);
      }
      const s = this.runFilter(what, pod, withNominated);
      if (s) return s;
    }
    return this.runFilter(state, pod, node);
  }

  runAddPod(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo): void {
    for (const p of this.preFilterPlugins) if (p.addPod && !state.skipFilter.has(p.name)) p.addPod(state, pod, other, node);
  }

  runRemovePod(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo): void {
    for (const p of this.preFilterPlugins) if (p.removePod && !state.skipFilter.has(p.name)) p.removePod(state, pod, other, node);
  }

  runReserve(state: CycleState, pod: PodInfo, nodeName: string): Status | undefined {
    for (const p of this.reservePlugins) {
      const s = p.reserve!(state, pod, nodeName);
      if (s && s.code !== 'Success') {
        s.plugin = p.name;
        return s;
      }
    }
    return undefined;
  }

  /** Unreserve runs in reverse order, for every Reserve plugin, whatever failed. */
  runUnreserve(state: CycleState, pod: PodInfo, nodeName: string): void {
    for (let i = this.reservePlugins.length - 1; i >= 0; i--) this.reservePlugins[i].unreserve?.(state, pod, nodeName);
  }
}

/** Kubernetes' adaptive default: all nodes below 100; above, 50% shrinking by 1% per 125 nodes, never under 5% or 100 nodes. */
export function numFeasibleNodesToFind(numAllNodes: number, percentageOfNodesToScore = 0): number {
  if (numAllNodes < 100) return numAllNodes;
  let percentage = percentageOfNodesToScore;
  if (percentage <= 0) percentage = Math.max(5, 50 - Math.floor(numAllNodes / 125));
  if (percentage >= 100) return numAllNodes;
  const n = Math.floor((numAllNodes * percentage) / 100);
  return Math.max(n, 100);
}

export interface ScheduleOptions {
  percentageOfNodesToScore?: number;
  /** Round-robin start across cycles, so every node gets looked at; updated in place. */
  cursor?: { nextStartNodeIndex: number };
  random?: () => number;
}

export interface FitFailure {
  numAllNodes: number;
  /** Why each node was rejected (all nodes carry the PreFilter status when PreFilter failed). */
  statuses: Map<string, Status>;
  preFilterStatus?: Status;
  /** Plugins that rejected the pod: the queue retries it on events these care about. */
  unschedulablePlugins: Set<string>;
  message: string;
}

export type ScheduleResult =
  | { node: string; state: CycleState; evaluatedNodes: number; feasibleNodes: number }
  | { failure: FitFailure; state: CycleState }
  | { error: Status; state: CycleState };

/** FitError.Error(): "0/3 nodes are available: <sorted reason histogram>. <postfilter message>." */
export function fitErrorMessage(numAllNodes: number, statuses: Map<string, Status>, preFilterStatus?: Status, postFilterMessage?: string): string {
  let msg = `0/${numAllNodes} nodes are available:`;
  if (preFilterStatus) {
    msg += ` ${preFilterStatus.reasons.join(', ')}.`;
  } else {
    const histogram = new Map<string, number>();
    for (const s of statuses.values()) for (const r of s.reasons) histogram.set(r, (histogram.get(r) ?? 0) + 1);
    const parts = [...histogram].map(([reason, count]) => `${count} ${reason}`).sort();
    if (parts.length) msg += ` ${parts.join(', ')}.`;
  }
  if (postFilterMessage) msg += ` ${postFilterMessage}.`;
  return msg;
}

/** One pure scheduling cycle for `pod` over `snapshot`. */
export function schedulePod(snapshot: Snapshot, pod: PodInfo, framework: Framework, options: ScheduleOptions = {}): ScheduleResult {
  const state = new CycleState(snapshot);
  const nodes = snapshot.nodeInfoList();
  const statuses = new Map<string, Status>();
  const unschedulablePlugins = new Set<string>();
  const fail = (preFilterStatus?: Status): ScheduleResult => ({
    state,
    failure: { numAllNodes: nodes.length, statuses, preFilterStatus, unschedulablePlugins, message: fitErrorMessage(nodes.length, statuses, preFilterStatus) },
  });
  if (nodes.length === 0) return fail();

  const preFilter = framework.runPreFilter(state, pod);
  if (preFilter) {
    if (preFilter.code === 'Error') return { error: preFilter, state };
    unschedulablePlugins.add(preFilter.plugin!);
    for (const n of nodes) statuses.set(n.name, preFilter);
    return fail(preFilter);
  }

  const toFind = numFeasibleNodesToFind(nodes.length, options.percentageOfNodesToScore);
  const cursor = options.cursor ?? { nextStartNodeIndex: 0 };
  const start = cursor.nextStartNodeIndex % nodes.length;
  const feasible: NodeInfo[] = [];
  let processed = 0;
  for (; processed < nodes.length && feasible.length < toFind; processed++) {
    const node = nodes[(start + processed) % nodes.length];
    const s = framework.runFilterWithNominatedPods(state, pod, node);
    if (!s) {
      feasible.push(node);
    } else if (s.code === 'Error') {
      return { error: s, state };
    } else {
      statuses.set(node.name, s);
      unschedulablePlugins.add(s.plugin!);
    }
  }
  cursor.nextStartNodeIndex = (start + processed) % nodes.length;
  if (feasible.length === 0) return fail();
  if (feasible.length === 1) return { node: feasible[0].name, state, evaluatedNodes: processed, feasibleNodes: 1 };

  const totals = scoreNodes(state, pod, framework, feasible);
  return { node: selectHost(feasible, totals, options.random ?? Math.random), state, evaluatedNodes: processed, feasibleNodes: feasible.length };
}

/** PreScore, Score, NormalizeScore and weights: the weighted total per node (parallel to `nodes`). */
export function scoreNodes(state: CycleState, pod: PodInfo, framework: Framework, nodes: NodeInfo[]): number[] {
  for (const p of framework.preScorePlugins) {
    const s = p.preScore!(state, pod, nodes);
    if (s?.code === 'Skip') state.skipScore.add(p.name);
  }
  const totals = new Array<number>(nodes.length).fill(0);
  const scores = new Array<number>(nodes.length);
  for (const { plugin, weight } of framework.scorePlugins) {
    if (state.skipScore.has(plugin.name)) continue;
    for (let i = 0; i < nodes.length; i++) scores[i] = plugin.score!(state, pod, nodes[i]);
    plugin.normalizeScore?.(state, pod, nodes, scores);
    for (let i = 0; i < nodes.length; i++) totals[i] += scores[i] * weight;
  }
  return totals;
}

/** Highest total wins; ties are broken uniformly at random (reservoir sampling, as Kubernetes does). */
export function selectHost(nodes: NodeInfo[], totals: number[], random: () => number): string {
  let best = 0;
  let ties = 1;
  for (let i = 1; i < nodes.length; i++) {
    if (totals[i] > totals[best]) {
      best = i;
      ties = 1;
    } else if (totals[i] === totals[best]) {
      ties++;
      if (random() * ties < 1) best = i;
    }
  }
  return nodes[best].name;
}

/** Shared helper for plugins whose scores only need stretching to [0, 100] (higher raw = better, or inverted). */
export function defaultNormalizeScore(scores: number[], reverse: boolean): void {
  let max = 0;
  for (const s of scores) if (s > max) max = s;
  if (max === 0) {
    if (reverse) scores.fill(maxNodeScore);
    return;
  }
  for (let i = 0; i < scores.length; i++) {
    let s = Math.floor((maxNodeScore * scores[i]) / max);
    if (reverse) s = maxNodeScore - s;
    scores[i] = s;
  }
}
