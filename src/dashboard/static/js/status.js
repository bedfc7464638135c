// What kubectl prints in its STATUS/READY/ROLES columns, computed the same way, so the dashboard
// and `kubectl get` never disagree. Pure functions: importable in Node for tests.
import { age, humanDuration } from './format.js';

function isRestartableInitContainer(container) {
  return container?.restartPolicy === 'Always';
}

function conditionTrue(conditions, type) {
  return (conditions ?? []).some((c) => c.type === type && c.status === 'True');
}

/**
 * A pod's STATUS, READY and RESTARTS as `kubectl get pods` prints them: the phase, overridden by
 * the pod's reason, init container progress ("Init:1/2", "Init:CrashLoopBackOff"), the last
 * waiting/terminated reason of a container ("CrashLoopBackOff", "Completed", "ExitCode:1"), and
 * "Terminating" once deleted.
 */
export function podStatus(pod) {
  const spec = pod.spec ?? {};
  const status = pod.status ?? {};
  const initSpecs = new Map((spec.initContainers ?? []).map((c) => [c.name, c]));
  let total = (spec.containers ?? []).length;
  for (const c of spec.initContainers ?? []) if (isRestartableInitContainer(c)) total++;
  let ready = 0;
  let restarts = 0;
  let reason = status.phase || 'Pending';
  if (status.reason) reason = status.reason;
  if ((status.conditions ?? []).some((c) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated')) reason = 'SchedulingGated';

  let initializing = false;
  const initStatuses = status.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const container = initStatuses[i];
    restarts += container.restartCount ?? 0;
    const state = container.state ?? {};
    if (isRestartableInitContainer(initSpecs.get(container.name)) && container.started) {
      if (container.ready) ready++;
      continue;
    }
    if (state.terminated && state.terminated.exitCode === 0) continue;
    if (state.terminated) {
      if (!state.terminated.reason) {
        reason = state.terminated.signal ? `Init:Signal:${state.terminated.signal}` : `Init:ExitCode:${state.terminated.exitCode}`;
      } else {
        reason = `Init:${state.terminated.reason}`;
      }
    } else if (state.waiting && state.waiting.reason && state.waiting.reason !== 'PodInitializing') {
      reason = `Init:${state.waiting.reason}`;
    } else {
      reason = `Init:${i}/${(spec.initContainers ?? []).length}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || conditionTrue(status.conditions, 'Initialized')) {
    let hasRunning = false;
    const statuses = status.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const container = statuses[i];
      restarts += container.restartCount ?? 0;
      const state = container.state ?? {};
      if (state.waiting && state.waiting.reason) {
        reason = state.waiting.reason;
      } else if (state.terminated && state.terminated.reason) {
        reason = state.terminated.reason;
      } else if (state.terminated) {
        reason = state.terminated.signal ? `Signal:${state.terminated.signal}` : `ExitCode:${state.terminated.exitCode}`;
      } else if (container.ready && state.running) {
        hasRunning = true;
        ready++;
      }
    }
    // A pod whose last container completed but another still runs is not "Completed".
    if (reason === 'Completed' && hasRunning) reason = conditionTrue(status.conditions, 'Ready') ? 'Running' : 'NotReady';
  }

  const terminal = status.phase === 'Succeeded' || status.phase === 'Failed';
  if (pod.metadata?.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata?.deletionTimestamp && !terminal) reason = 'Terminating';

  return { status: reason, ready: `${ready}/${total}`, restarts };
}

/** How a status reads at a glance: ok, warn (transitional), error, done (finished), for colour. */
export function statusTone(status) {
  if (['Running', 'Ready', 'Active', 'Bound', 'Complete', 'True', 'Available'].includes(status)) return 'ok';
  if (['Completed', 'Succeeded'].includes(status)) return 'done';
  if (['Pending', 'ContainerCreating', 'PodInitializing', 'Terminating', 'SchedulingGated', 'Suspended', 'Unknown', 'Ready,SchedulingDisabled'].includes(status)) return 'warn';
  if (status.startsWith('Init:') && !/^Init:(Error|CrashLoopBackOff|ExitCode|Signal|ImagePullBackOff|ErrImagePull|OOMKilled)/.test(status)) return 'warn';
  return 'error';
}

/** "Ready", "NotReady", "Unknown", with ",SchedulingDisabled" when cordoned — kubectl get nodes. */
export function nodeStatus(node) {
  const ready = (node.status?.conditions ?? []).find((c) => c.type === 'Ready');
  let text = !ready ? 'Unknown' : ready.status === 'True' ? 'Ready' : ready.status === 'False' ? 'NotReady' : 'Unknown';
  if (node.spec?.unschedulable) text += ',SchedulingDisabled';
  return text;
}

/** Roles from node-role.kubernetes.io/<role> labels (and the older kubernetes.io/role), "<none>" without. */
export function nodeRoles(node) {
  const roles = new Set();
  for (const [key, value] of Object.entries(node.metadata?.labels ?? {})) {
    if (key.startsWith('node-role.kubernetes.io/')) {
      const role = key.slice('node-role.kubernetes.io/'.length);
      if (role) roles.add(role);
    } else if (key === 'kubernetes.io/role' && value) {
      roles.add(value);
    }
  }
  return roles.size ? [...roles].sort().join(',') : '<none>';
}

export function nodeInternalIP(node) {
  return (node.status?.addresses ?? []).find((a) => a.type === 'InternalIP')?.address ?? '<none>';
}

export function deploymentColumns(d) {
  const s = d.status ?? {};
  const desired = d.spec?.replicas ?? 1;
  return { ready: `${s.readyReplicas ?? 0}/${desired}`, upToDate: s.updatedReplicas ?? 0, available: s.availableReplicas ?? 0, desired };
}

export function replicaSetColumns(rs) {
  const s = rs.status ?? {};
  return { desired: rs.spec?.replicas ?? 1, current: s.replicas ?? 0, ready: s.readyReplicas ?? 0 };
}

export function statefulSetColumns(sts) {
  const s = sts.status ?? {};
  return { ready: `${s.readyReplicas ?? 0}/${sts.spec?.replicas ?? 1}` };
}

export function daemonSetColumns(ds) {
  const s = ds.status ?? {};
  return {
    desired: s.desiredNumberScheduled ?? 0,
    current: s.currentNumberScheduled ?? 0,
    ready: s.numberReady ?? 0,
    upToDate: s.updatedNumberScheduled ?? 0,
    available: s.numberAvailable ?? 0,
  };
}

/** kubectl's Job STATUS (1.28+): Complete, Failed, Suspended, Running, plus COMPLETIONS and DURATION. */
export function jobColumns(job, now = Date.now()) {
  const s = job.status ?? {};
  const conditions = s.conditions ?? [];
  let status = 'Running';
  if (conditionTrue(conditions, 'Complete')) status = 'Complete';
  else if (conditionTrue(conditions, 'Failed')) status = 'Failed';
  else if (conditionTrue(conditions, 'FailureTarget')) status = 'FailureTarget';
  else if (conditionTrue(conditions, 'SuccessCriteriaMet')) status = 'SuccessCriteriaMet';
  else if (job.spec?.suspend || conditionTrue(conditions, 'Suspended')) status = 'Suspended';
  if (job.metadata?.deletionTimestamp) status = 'Terminating';
  const completions = job.spec?.completions;
  const parallelism = job.spec?.parallelism ?? 1;
  let completionsText;
  if (completions !== undefined && completions !== null) completionsText = `${s.succeeded ?? 0}/${completions}`;
  else completionsText = parallelism > 1 ? `${s.succeeded ?? 0}/1 of ${parallelism}` : `${s.succeeded ?? 0}/1`;
  let duration = '';
  if (s.startTime) {
    const end = s.completionTime ? Date.parse(s.completionTime) : now;
    duration = humanDuration(end - Date.parse(s.startTime));
  }
  return { status, completions: completionsText, duration };
}

export function cronJobColumns(cj, now = Date.now()) {
  const s = cj.status ?? {};
  return {
    schedule: cj.spec?.schedule ?? '',
    timeZone: cj.spec?.timeZone ?? '<none>',
    suspend: cj.spec?.suspend ? 'True' : 'False',
    active: (s.active ?? []).length,
    lastSchedule: s.lastScheduleTime ? age(s.lastScheduleTime, now) : '<none>',
  };
}

/** "80/TCP,443:30443/TCP" as kubectl prints PORT(S). */
export function servicePorts(service) {
  const ports = service.spec?.ports ?? [];
  if (ports.length === 0) return '<none>';
  return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
}

/** kubectl's EXTERNAL-IP: load balancer ingress, externalIPs, the ExternalName, "<pending>" or "<none>". */
export function serviceExternalIP(service) {
  const spec = service.spec ?? {};
  const type = spec.type ?? 'ClusterIP';
  const external = spec.externalIPs ?? [];
  if (type === 'ExternalName') return spec.externalName ?? '<none>';
  if (type === 'LoadBalancer') {
    const ingress = (service.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname).filter(Boolean);
    const all = [...ingress, ...external];
    return all.length ? all.join(',') : '<pending>';
  }
  return external.length ? external.join(',') : '<none>';
}

/** One line describing a container's state: "Running since 5m", "Waiting: CrashLoopBackOff", "Terminated: Completed (exit 0)". */
export function containerState(containerStatus, now = Date.now()) {
  const state = containerStatus?.state ?? {};
  if (state.running) return { text: `Running for ${age(state.running.startedAt, now)}`, tone: containerStatus.ready ? 'ok' : 'warn' };
  if (state.waiting) return { text: `Waiting: ${state.waiting.reason ?? 'unknown'}`, tone: /BackOff|Err|Invalid/.test(state.waiting.reason ?? '') ? 'error' : 'warn', message: state.waiting.message };
  if (state.terminated) {
    const t = state.terminated;
    return { text: `Terminated: ${t.reason ?? 'unknown'} (exit ${t.exitCode})`, tone: t.exitCode === 0 ? 'done' : 'error', message: t.message };
  }
  return { text: 'Not started', tone: 'warn' };
}

/** Counts of pods by phase, in the order a person reads them. */
export function podPhaseCounts(pods) {
  const counts = { Running: 0, Pending: 0, Succeeded: 0, Failed: 0, Unknown: 0 };
  for (const pod of pods) {
    const phase = pod.status?.phase ?? 'Pending';
    counts[phase in counts ? phase : 'Unknown']++;
  }
  return counts;
}

/** Events newest first by their last occurrence, as `kubectl events` sorts them. */
export function eventTime(event) {
  return event.series?.lastObservedTime ?? event.lastTimestamp ?? event.eventTime ?? event.firstTimestamp ?? event.metadata?.creationTimestamp;
}

export function sortEventsNewestFirst(events) {
  const time = (e) => Date.parse(eventTime(e) ?? '') || 0;
  return [...events].sort((a, b) => time(b) - time(a));
}
