// Pod status as the kubelet reports it (generateAPIPodStatus / getPhase in Kubernetes):
// a pure function of the pod, what the runtime shows, and the kubelet's own bookkeeping
// (waiting reasons, probe results). Everything here is table-tested against Kubernetes'
// documented statuses.
import { parseQuantity } from './env.js';

/** One container instance as the runtime reports it. */
export interface ObservedInstance {
  id: string;
  state: 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  /** Runtime's reason (Completed, Error, OOMKilled…). */
  reason: string;
  /** terminationMessagePath contents (or the log tail for FallbackToLogsOnError). */
  message?: string;
  image: string;
  imageRef: string;
  restartCount: number;
}

/** What the kubelet knows about one container of the spec. */
export interface ContainerView {
  name: string;
  image: string;
  /** The newest instance, if any was created. */
  current?: ObservedInstance;
  /** The instance before it (for lastState). */
  previous?: ObservedInstance;
  /** Why the container is not running when the kubelet chose not to (re)start it. */
  waiting?: { reason: string; message?: string };
  ready: boolean;
  started: boolean;
}

export interface PodStatusInput {
  pod: any;
  /** Sandbox exists, is ready and its network is set up. */
  sandboxReady: boolean;
  podIPs: string[];
  hostIPs: string[];
  initContainers: ContainerView[];
  containers: ContainerView[];
  /** e.g. "runc": containerIDs are "<runtime>://<id>". */
  runtimeName: string;
  now: number;
  /** Set while the kubelet kills the pod for deletion (phase stays as it was). */
  terminating?: boolean;
}

export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function terminatedState(instance: ObservedInstance, runtimeName: string): any {
  const reason = instance.reason || (instance.exitCode === 0 ? 'Completed' : 'Error');
  const terminated: any = {
    exitCode: instance.exitCode,
    reason,
    startedAt: instance.startedAt ? rfc3339(instance.startedAt) : null,
    finishedAt: instance.finishedAt ? rfc3339(instance.finishedAt) : null,
    containerID: `${runtimeName}://${instance.id}`,
  };
  if (instance.message) terminated.message = instance.message;
  return { terminated };
}

/** The default waiting reason before a container ever ran (kubelet's convertToAPIContainerStatuses). */
function defaultWaiting(hasInitContainers: boolean): { reason: string } {
  return { reason: hasInitContainers ? 'PodInitializing' : 'ContainerCreating' };
}

export function containerStatus(view: ContainerView, runtimeName: string, hasInitContainers: boolean): any {
  const status: any = {
    name: view.name,
    state: {},
    lastState: {},
    ready: view.ready,
    restartCount: view.current?.restartCount ?? 0,
    image: view.image,
    imageID: view.current?.imageRef ?? '',
    started: false,
  };
  const current = view.current;
  if (current) status.containerID = `${runtimeName}://${current.id}`;
  if (current?.state === 'CONTAINER_RUNNING') {
    status.state = { running: { startedAt: rfc3339(current.startedAt) } };
    status.started = view.started;
    if (view.previous) status.lastState = terminatedState(view.previous, runtimeName);
  } else if (current?.state === 'CONTAINER_EXITED') {
    if (view.waiting) {
      status.state = { waiting: view.waiting };
      status.lastState = terminatedState(current, runtimeName);
    } else {
      status.state = terminatedState(current, runtimeName);
      if (view.previous) status.lastState = terminatedState(view.previous, runtimeName);
    }
  } else {
    status.state = { waiting: view.waiting ?? defaultWaiting(hasInitContainers) };
    if (view.previous) status.lastState = terminatedState(view.previous, runtimeName);
  }
  if (!current) {
    delete status.containerID;
    status.imageID = '';
  }
  return status;
}

/** Kubernetes' getPhase. */
export function podPhase(pod: any, initStatuses: any[], statuses: any[]): string {
  const restartPolicy = pod.spec?.restartPolicy ?? 'Always';
  let pendingInitialization = 0;
  let failedInitialization = 0;
  for (const status of initStatuses) {
    if (status.state.running) pendingInitialization++;
    else if (status.state.terminated) {
      if (status.state.terminated.exitCode !== 0) failedInitialization++;
    } else if (status.state.waiting) {
      if (status.lastState.terminated && status.lastState.terminated.exitCode !== 0) failedInitialization++;
      else pendingInitialization++;
    } else pendingInitialization++;
  }
  if (failedInitialization > 0 && restartPolicy === 'Never') return 'Failed';

  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const status of statuses) {
    if (status.state.running) running++;
    else if (status.state.terminated) {
      stopped++;
      if (status.state.terminated.exitCode === 0) succeeded++;
    } else if (status.state.waiting) {
      if (status.lastState.terminated) stopped++;
      else waiting++;
    }
  }
  if (pendingInitialization > 0 || failedInitialization > 0) return 'Pending';
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (restartPolicy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (restartPolicy === 'OnFailure') return 'Running';
    return 'Failed';
  }
  return 'Pending';
}

/** Kubernetes' QoS class from requests and limits. */
export function qosClass(pod: any): string {
  const all = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  let anySet = false;
  let guaranteed = true;
  for (const c of all) {
    const requests = c.resources?.requests ?? {};
    const limits = c.resources?.limits ?? {};
    for (const name of ['cpu', 'memory']) {
      if (requests[name] !== undefined || limits[name] !== undefined) anySet = true;
      const limit = parseQuantity(limits[name]);
      const request = parseQuantity(requests[name]) ?? limit;
      if (limit === undefined || request !== limit) guaranteed = false;
    }
  }
  if (!anySet) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function condition(type: string, ok: boolean, old: any[], now: number, reason?: string, message?: string): any {
  const status = ok ? 'True' : 'False';
  const previous = old.find((c) => c.type === type);
  const c: any = {
    type,
    status,
    lastProbeTime: null,
    lastTransitionTime: previous && previous.status === status ? previous.lastTransitionTime : rfc3339(now),
  };
  if (!ok && reason) c.reason = reason;
  if (!ok && message) c.message = message;
  return c;
}

export function computePodStatus(input: PodStatusInput): any {
  const { pod, now, runtimeName } = input;
  const old = pod.status ?? {};
  const oldConditions: any[] = old.conditions ?? [];
  const hasInit = input.initContainers.length > 0;
  const initStatuses = input.initContainers.map((v) => containerStatus(v, runtimeName, hasInit));
  const statuses = input.containers.map((v) => containerStatus(v, runtimeName, hasInit));

  let phase = podPhase(pod, initStatuses, statuses);
  // A pod that reached a terminal phase never leaves it (the kubelet refuses to go back).
  if (old.phase === 'Succeeded' || old.phase === 'Failed') phase = old.phase;
  if (input.terminating && phase === 'Pending' && old.phase) phase = old.phase;

  const completed = phase === 'Succeeded';
  const incompleteInit = input.initContainers
    .filter((_, i) => !(initStatuses[i].state.terminated?.exitCode === 0))
    .map((v) => v.name);
  const initialized = incompleteInit.length === 0 || completed;
  const unready = input.containers.filter((v) => !v.ready).map((v) => v.name);
  const containersReady = unready.length === 0 && !completed && phase !== 'Failed';
  const readinessGates: any[] = pod.spec?.readinessGates ?? [];
  const missingGates = readinessGates.filter((g) => !oldConditions.some((c) => c.type === g.conditionType && c.status === 'True'));
  const ready = containersReady && missingGates.length === 0;

  const notReadyReason = completed ? 'PodCompleted' : 'ContainersNotReady';
  const notReadyMessage = completed ? undefined : `containers with unready status: [${unready.join(' ')}]`;
  const conditions = [
    condition('PodReadyToStartContainers', input.sandboxReady, oldConditions, now),
    condition('Initialized', initialized, oldConditions, now, completed ? 'PodCompleted' : 'ContainersNotInitialized', `containers with incomplete status: [${incompleteInit.join(' ')}]`),
    condition('Ready', ready, oldConditions, now, containersReady ? 'ReadinessGatesNotReady' : notReadyReason,
      containersReady ? `corresponding condition of pod readiness gate "${missingGates[0]?.conditionType}" does not exist.` : notReadyMessage),
    condition('ContainersReady', containersReady, oldConditions, now, notReadyReason, notReadyMessage),
  ];
  // Conditions other writers own (PodScheduled, readiness gates, DisruptionTarget) are kept as they are.
  const own = new Set(conditions.map((c) => c.type));
  for (const c of oldConditions) if (!own.has(c.type)) conditions.push(c);

  const status: any = {
    phase,
    conditions,
    hostIP: input.hostIPs[0],
    hostIPs: input.hostIPs.map((ip) => ({ ip })),
    startTime: old.startTime ?? rfc3339(now),
    initContainerStatuses: hasInit ? initStatuses : undefined,
    containerStatuses: statuses,
    qosClass: old.qosClass ?? qosClass(pod),
  };
  if (input.podIPs.length) {
    status.podIP = input.podIPs[0];
    status.podIPs = input.podIPs.map((ip) => ({ ip }));
  } else if (old.podIP && input.terminating) {
    status.podIP = old.podIP;
    status.podIPs = old.podIPs;
  }
  for (const key of ['nominatedNodeName', 'resize', 'ephemeralContainerStatuses']) if (old[key] !== undefined) status[key] = old[key];
  if (status.initContainerStatuses === undefined) delete status.initContainerStatuses;
  if (phase === 'Failed' && old.reason) { status.reason = old.reason; status.message = old.message; }
  return status;
}

/** Status equality for deciding whether to write: ignores key order. */
export function sameStatus(a: any, b: any): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: any): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.keys(v).filter((k) => v[k] !== undefined).sort().map((k) => [k, v[k]])) : v,
  );
}
