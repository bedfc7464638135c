// Pure pieces of the Job controller: completed-index intervals ("1,3-5,7", as
// status.completedIndexes) and the pod-failure backoff (10 s · 2^(n-1), at most 6 minutes).

export const jobTrackingFinalizer = 'batch.kubernetes.io/job-tracking';
export const completionIndexAnnotation = 'batch.kubernetes.io/job-completion-index';
export const controllerUidLabel = 'batch.kubernetes.io/controller-uid';
export const jobNameLabel = 'batch.kubernetes.io/job-name';
export const legacyControllerUidLabel = 'controller-uid';
export const legacyJobNameLabel = 'job-name';

export const defaultBackoffMs = 10_000;
export const maxBackoffMs = 360_000;

/** Delay before creating a replacement after `failures` consecutive failures. */
export function podFailureBackoffMs(failures: number): number {
  if (failures <= 0) return 0;
  // 2^(n-1) overflows long before it matters; cap the exponent.
  const exponent = Math.min(failures - 1, 30);
  return Math.min(defaultBackoffMs * 2 ** exponent, maxBackoffMs);
}

export function parseIndexes(s: string | undefined, completions: number): Set<number> {
  const out = new Set<number>();
  if (!s) return out;
  for (const part of s.split(',')) {
    const [a, b] = part.split('-');
    const from = Number(a);
    const to = b === undefined ? from : Number(b);
    if (!Number.isInteger(from) || !Number.isInteger(to)) continue;
    for (let i = from; i <= to && i < completions; i++) if (i >= 0) out.add(i);
  }
  return out;
}

export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j === i ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** The completion index a pod was created for, or undefined when missing or out of range. */
export function podIndex(pod: { metadata: { annotations?: Record<string, string>; labels?: Record<string, string> } }, completions: number): number | undefined {
  const raw = pod.metadata.annotations?.[completionIndexAnnotation] ?? pod.metadata.labels?.[completionIndexAnnotation];
  if (raw === undefined || !/^\d+$/.test(raw)) return undefined;
  const n = Number(raw);
  return n < completions ? n : undefined;
}

interface FinishedPod {
  metadata: { creationTimestamp?: string };
  status?: { phase?: string; containerStatuses?: { state?: { terminated?: { finishedAt?: string } } }[]; conditions?: { type: string; lastTransitionTime?: string }[] };
}

/** When a pod finished: its last container's finishedAt, else when it stopped being Ready, else its creation. */
export function podFinishedAt(pod: FinishedPod): number {
  let latest = NaN;
  for (const s of pod.status?.containerStatuses ?? []) {
    const t = Date.parse(s.state?.terminated?.finishedAt ?? '');
    if (!Number.isNaN(t) && !(t <= latest)) latest = t;
  }
  if (!Number.isNaN(latest)) return latest;
  const ready = Date.parse(pod.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime ?? '');
  if (!Number.isNaN(ready)) return ready;
  return Date.parse(pod.metadata.creationTimestamp ?? '') || 0;
}

/**
 * The backoff state a restarted controller rebuilds from the pods it finds: failures since
 * the last success and when the latest of them finished.
 */
export function backoffFromPods(pods: FinishedPod[]): { failures: number; lastFailureMs: number } {
  const finished = pods.filter((p) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed').sort((a, b) => podFinishedAt(a) - podFinishedAt(b));
  let failures = 0;
  let lastFailureMs = 0;
  for (const pod of finished) {
    if (pod.status!.phase === 'Succeeded') {
      failures = 0;
      lastFailureMs = 0;
    } else {
      failures++;
      lastFailureMs = podFinishedAt(pod);
    }
  }
  return { failures, lastFailureMs };
}
