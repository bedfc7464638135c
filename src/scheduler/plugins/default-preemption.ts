// DefaultPreemption (PostFilter): when no node fits, look for a node where evicting pods of
// lower priority would make the pod fit. Victims are chosen greedily — remove every lower-
// priority pod, then give back (highest priority first, PDB-protected ones before the
// others) each pod whose return still leaves room. The best node has the fewest PDB
// violations, then the lowest top victim priority, the smallest priority sum, the fewest
// victims. Victims are marked with a DisruptionTarget condition and deleted; the preemptor
// is nominated to the node and retried once they are gone.
import type { KubeObject } from '../../api/types.js';
import { labelSelectorMatches } from '../../api/selectors/labels.js';
import type { Client } from '../../client/client.js';
import { isNotFound } from '../../client/errors.js';
import type { EventRecorder } from '../events.js';
import { status, type CycleState, type Framework, type Plugin, type PostFilterResult, type Status } from '../framework.js';
import type { NodeInfo, PodInfo } from '../node-info.js';

export const preemptionNotHelpful = 'Preemption is not helpful for scheduling';
export const noVictimsFound = 'No preemption victims found for incoming pod';

export interface Candidate {
  nodeName: string;
  victims: PodInfo[];
  pdbViolations: number;
}

function startTime(p: PodInfo): number {
  return Date.parse(p.pod.status?.startTime ?? p.pod.metadata.creationTimestamp ?? '') || 0;
}

/** Pods matching a PDB that allows no more disruptions (budgets shrink as victims are taken). */
function splitByPDB(victims: PodInfo[], pdbs: KubeObject[]): { violating: PodInfo[]; nonViolating: PodInfo[] } {
  const allowed = new Map<KubeObject, number>(pdbs.map((p) => [p, p.status?.disruptionsAllowed ?? 0]));
  const violating: PodInfo[] = [];
  const nonViolating: PodInfo[] = [];
  for (const v of victims) {
    let violates = false;
    for (const pdb of pdbs) {
      if (pdb.metadata.namespace !== v.pod.metadata.namespace || !pdb.spec?.selector) continue;
      if (!labelSelectorMatches(pdb.spec.selector, v.pod.metadata.labels)) continue;
      const left = allowed.get(pdb)! - 1;
      allowed.set(pdb, left);
      if (left < 0) violates = true;
    }
    (violates ? violating : nonViolating).push(v);
  }
  return { violating, nonViolating };
}

/**
 * Pure dry run on one node: the smallest set of lower-priority pods whose removal lets `pod`
 * fit, or why there is none (no lower-priority pods; or the Filter status even without them).
 */
export function selectVictimsOnNode(cycleState: CycleState, pod: PodInfo, node: NodeInfo, framework: Framework, pdbs: KubeObject[]): Candidate | Status {
  const trial = node.clone();
  const state = cycleState.clone();
  const potential = node.pods.filter((p) => p.priority < pod.priority);
  if (potential.length === 0) return status('UnschedulableAndUnresolvable', noVictimsFound);
  for (const p of potential) {
    trial.removePod(p.key);
    framework.runRemovePod(state, pod, p, trial);
  }
  const stillFailing = framework.runFilter(state, pod, trial);
  if (stillFailing) return stillFailing;
  // Highest priority first, then longest running: the most valuable get reprieved first.
  potential.sort((a, b) => b.priority - a.priority || startTime(a) - startTime(b));
  const { violating, nonViolating } = splitByPDB(potential, pdbs);
  const victims: PodInfo[] = [];
  let pdbViolations = 0;
  const reprieve = (p: PodInfo): boolean => {
    trial.addPod(p);
    framework.runAddPod(state, pod, p, trial);
    if (framework.runFilter(state, pod, trial)) {
      trial.removePod(p.key);
      framework.runRemovePod(state, pod, p, trial);
      victims.push(p);
      return false;
    }
    return true;
  };
  for (const p of violating) if (!reprieve(p)) pdbViolations++;
  for (const p of nonViolating) reprieve(p);
  return { nodeName: node.name, victims, pdbViolations };
}

/** Kubernetes' pickOneNodeForPreemption order. */
export function pickCandidate(candidates: Candidate[]): Candidate | undefined {
  const highest = (c: Candidate) => Math.max(...c.victims.map((v) => v.priority), -Infinity);
  const sum = (c: Candidate) => c.victims.reduce((s, v) => s + v.priority + 2 ** 31, 0);
  const earliestOfHighest = (c: Candidate) => {
    const top = highest(c);
    return Math.min(...c.victims.filter((v) => v.priority === top).map(startTime));
  };
  return [...candidates].sort(
    (a, b) =>
      a.pdbViolations - b.pdbViolations ||
      highest(a) - highest(b) ||
      sum(a) - sum(b) ||
      a.victims.length - b.victims.length ||
      earliestOfHighest(b) - earliestOfHighest(a),
  )[0];
}

export interface PreemptionDryRun {
  candidate?: Candidate;
  /** The FitError-style message when no candidate exists. */
  message?: string;
}

/** Pure: which node and victims preemption would pick, or why it cannot help. */
export function dryRunPreemption(state: CycleState, pod: PodInfo, statuses: Map<string, Status>, framework: Framework, pdbs: KubeObject[]): PreemptionDryRun {
  if (pod.pod.spec?.preemptionPolicy === 'Never') return { message: 'not eligible due to preemptionPolicy=Never.' };
  const nodes = state.snapshot.nodeInfoList();
  const nominated = pod.pod.status?.nominatedNodeName;
  if (nominated) {
    const node = state.snapshot.get(nominated);
    // A previous preemption is still in progress: wait for its victims instead of taking more.
    if (node && statuses.get(nominated)?.code !== 'UnschedulableAndUnresolvable' && node.pods.some((p) => p.priority < pod.priority && p.pod.metadata.deletionTimestamp)) {
      return { message: 'not eligible due to a terminating pod on the nominated node.' };
    }
  }
  const candidates: Candidate[] = [];
  const outcome = new Map<string, string[]>();
  for (const node of nodes) {
    const s = statuses.get(node.name);
    if (!s || s.code === 'UnschedulableAndUnresolvable') {
      outcome.set(node.name, [preemptionNotHelpful]);
      continue;
    }
    const result = selectVictimsOnNode(state, pod, node, framework, pdbs);
    if ('victims' in result) candidates.push(result);
    else outcome.set(node.name, result.reasons);
  }
  const best = pickCandidate(candidates);
  if (best) return { candidate: best };
  const histogram = new Map<string, number>();
  for (const reasons of outcome.values()) for (const reason of reasons) histogram.set(reason, (histogram.get(reason) ?? 0) + 1);
  const parts = [...histogram].map(([r, n]) => `${n} ${r}`).sort();
  return { message: `0/${nodes.length} nodes are available: ${parts.join(', ')}.` };
}

const podsRef = { group: '', version: 'v1', resource: 'pods', namespaced: true, kind: 'Pod' };

export interface PreemptionHandle {
  framework: () => Framework;
  pdbs: () => KubeObject[];
  client?: Client;
  recorder?: EventRecorder;
  schedulerName: string;
  now: () => Date;
}

export function defaultPreemption(handle: PreemptionHandle): Plugin {
  return {
    name: 'DefaultPreemption',
    async postFilter(state, pod, statuses): Promise<PostFilterResult> {
      const run = dryRunPreemption(state, pod, statuses, handle.framework(), handle.pdbs());
      if (!run.candidate) return { status: status('Unschedulable', `preemption: ${run.message}`) };
      const { nodeName, victims } = run.candidate;
      if (handle.client) {
        const pods = handle.client.resource(podsRef);
        const transition = handle.now().toISOString().replace(/\.\d{3}Z$/, 'Z');
        for (const v of victims) {
          const ns = v.pod.metadata.namespace!;
          const name = v.pod.metadata.name!;
          try {
            await pods.patchStatus(ns, name, 'strategic', {
              status: {
                conditions: [
                  { type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler', message: `${handle.schedulerName}: preempting to accommodate a higher priority pod`, lastTransitionTime: transition },
                ],
              },
            });
            await pods.delete(ns, name, { preconditions: { uid: v.pod.metadata.uid } });
          } catch (err) {
            if (!isNotFound(err)) return { status: status('Error', `preempting ${ns}/${name}: ${(err as Error).message}`) };
          }
          handle.recorder?.event(v.pod, 'Normal', 'Preempted', `Preempted by pod ${pod.pod.metadata.uid} on node ${nodeName}`);
        }
      }
      return { nominatedNodeName: nodeName, status: { code: 'Success', reasons: [] } };
    },
  };
}
