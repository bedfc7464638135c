// Server-side printing (Table output) with the columns and cells of Kubernetes' pkg/printers/internalversion.
// The server always returns every column; kubectl hides priority > 0 unless `-o wide`.
import type { KubeObject, Printer, TableColumn } from '../types.js';
import { formatLabelSelector, formatLabels } from '../selectors/labels.js';
import { humanDuration, since } from './duration.js';

type Obj = Record<string, any>;
const arr = <T = any>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function col(name: string, type: TableColumn['type'] = 'string', priority = 0, description?: string): TableColumn {
  const c: TableColumn = { name, type, priority };
  if (name === 'Name') c.format = 'name';
  if (description) c.description = description;
  return c;
}

const NAME = col('Name', 'string', 0, 'Name must be unique within a namespace.');
const AGE = col('Age', 'string', 0, 'CreationTimestamp is a timestamp representing the server time when this object was created.');
const age = (o: KubeObject, now: Date) => since(o.metadata?.creationTimestamp, now);
const name = (o: KubeObject) => o.metadata?.name ?? '';

function containerCells(containers: unknown): [string, string] {
  const list = arr<Obj>(containers);
  return [list.map((c) => c?.name ?? '').join(','), list.map((c) => c?.image ?? '').join(',')];
}

const num = (v: unknown): number => (typeof v === 'number' ? v : 0);

function conditionTrue(conditions: unknown, type: string): boolean {
  return arr<Obj>(conditions).some((c) => c?.type === type && c?.status === 'True');
}

// ---- Pod -----------------------------------------------------------------------------------

const later = (a: string, b: string | undefined) => (b && (!a || Date.parse(b) > Date.parse(a)) ? b : a);

function podCells(pod: KubeObject, now: Date): unknown[] {
  const spec: Obj = pod.spec ?? {};
  const status: Obj = pod.status ?? {};
  let restarts = 0;
  let sidecarRestarts = 0;
  let ready = 0;
  let lastRestart = '';
  let lastSidecarRestart = '';
  let total = arr(spec.containers).length;
  const phase = status.phase ?? '';
  let reason: string = status.reason || phase;
  if (arr<Obj>(status.conditions).some((c) => c?.type === 'PodScheduled' && c?.reason === 'SchedulingGated')) reason = 'SchedulingGated';

  const initSpecs = new Map<string, Obj>();
  for (const c of arr<Obj>(spec.initContainers)) {
    initSpecs.set(c?.name, c);
    if (c?.restartPolicy === 'Always') total++;
  }
  const isSidecar = (n: string) => initSpecs.get(n)?.restartPolicy === 'Always';
  const initCount = arr(spec.initContainers).length;

  let initializing = false;
  const initStatuses = arr<Obj>(status.initContainerStatuses);
  for (let i = 0; i < initStatuses.length; i++) {
    const c = initStatuses[i] ?? {};
    restarts += num(c.restartCount);
    const finished = c.lastState?.terminated?.finishedAt;
    lastRestart = later(lastRestart, finished);
    if (isSidecar(c.name)) {
      sidecarRestarts += num(c.restartCount);
      lastSidecarRestart = later(lastSidecarRestart, finished);
    }
    const term = c.state?.terminated;
    const waiting = c.state?.waiting;
    if (term && num(term.exitCode) === 0) continue;
    if (isSidecar(c.name) && c.started === true) {
      if (c.ready) ready++;
      continue;
    }
    if (term) {
      if (!term.reason) reason = term.signal ? `Init:Signal:${term.signal}` : `Init:ExitCode:${num(term.exitCode)}`;
      else reason = `Init:${term.reason}`;
    } else if (waiting?.reason && waiting.reason !== 'PodInitializing') {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${i}/${initCount}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || conditionTrue(status.conditions, 'Initialized')) {
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    const statuses = arr<Obj>(status.containerStatuses);
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i] ?? {};
      restarts += num(c.restartCount);
      lastRestart = later(lastRestart, c.lastState?.terminated?.finishedAt);
      const waiting = c.state?.waiting;
      const term = c.state?.terminated;
      if (waiting?.reason) reason = waiting.reason;
      else if (term?.reason) reason = term.reason;
      else if (term) reason = term.signal ? `Signal:${term.signal}` : `ExitCode:${num(term.exitCode)}`;
      else if (c.ready && c.state?.running) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) reason = conditionTrue(status.conditions, 'Ready') ? 'Running' : 'NotReady';
  }

  if (pod.metadata?.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata?.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';

  let restartsText = String(restarts);
  if (restarts !== 0 && lastRestart) restartsText = `${restarts} (${since(lastRestart, now)} ago)`;

  const ips = arr<Obj>(status.podIPs);
  const ip = ips[0]?.ip || status.podIP || '<none>';
  let gates = '<none>';
  const readinessGates = arr<Obj>(spec.readinessGates);
  if (readinessGates.length > 0) {
    let trueCount = 0;
    for (const g of readinessGates) {
      const cond = arr<Obj>(status.conditions).find((c) => c?.type === g?.conditionType);
      if (cond?.status === 'True') trueCount++;
    }
    gates = `${trueCount}/${readinessGates.length}`;
  }
  return [name(pod), `${ready}/${total}`, reason, restartsText, age(pod, now), ip, spec.nodeName || '<none>', status.nominatedNodeName || '<none>', gates];
}

const podPrinter: Printer = {
  columns: [
    NAME,
    col('Ready', 'string', 0, 'The aggregate readiness state of this pod for accepting traffic.'),
    col('Status', 'string', 0, 'The aggregate status of the containers in this pod.'),
    col('Restarts', 'string', 0, 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    AGE,
    col('IP', 'string', 1, 'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.'),
    col('Node', 'string', 1, 'NodeName is a request to schedule this pod onto a specific node.'),
    col('Nominated Node', 'string', 1, 'nominatedNodeName is set only when this pod preempts other pods on the node.'),
    col('Readiness Gates', 'string', 1, 'If specified, all readiness gates will be evaluated for pod readiness.'),
  ],
  cells: podCells,
};

// ---- workloads -----------------------------------------------------------------------------

const CONTAINERS = col('Containers', 'string', 1, 'Names of each container in the template.');
const IMAGES = col('Images', 'string', 1, 'Images referenced by each container in the template.');
const SELECTOR = col('Selector', 'string', 1, 'Label selector for pods.');

const deploymentPrinter: Printer = {
  columns: [NAME, col('Ready'), col('Up-to-date', 'integer'), col('Available', 'integer'), AGE, CONTAINERS, IMAGES, SELECTOR],
  cells: (d, now) => {
    const [names, images] = containerCells(d.spec?.template?.spec?.containers);
    return [
      name(d),
      `${num(d.status?.readyReplicas)}/${num(d.spec?.replicas)}`,
      num(d.status?.updatedReplicas),
      num(d.status?.availableReplicas),
      age(d, now),
      names,
      images,
      formatLabelSelector(d.spec?.selector),
    ];
  },
};

const replicaSetPrinter: Printer = {
  columns: [NAME, col('Desired', 'integer'), col('Current', 'integer'), col('Ready', 'integer'), AGE, CONTAINERS, IMAGES, SELECTOR],
  cells: (rs, now) => {
    const [names, images] = containerCells(rs.spec?.template?.spec?.containers);
    return [name(rs), num(rs.spec?.replicas), num(rs.status?.replicas), num(rs.status?.readyReplicas), age(rs, now), names, images, formatLabelSelector(rs.spec?.selector)];
  },
};

const replicationControllerPrinter: Printer = {
  columns: replicaSetPrinter.columns,
  cells: (rc, now) => {
    const [names, images] = containerCells(rc.spec?.template?.spec?.containers);
    return [name(rc), num(rc.spec?.replicas), num(rc.status?.replicas), num(rc.status?.readyReplicas), age(rc, now), names, images, formatLabels(rc.spec?.selector)];
  },
};

const daemonSetPrinter: Printer = {
  columns: [
    NAME,
    col('Desired', 'integer'),
    col('Current', 'integer'),
    col('Ready', 'integer'),
    col('Up-to-date', 'integer'),
    col('Available', 'integer'),
    col('Node Selector'),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
  ],
  cells: (ds, now) => {
    const s: Obj = ds.status ?? {};
    const [names, images] = containerCells(ds.spec?.template?.spec?.containers);
    return [
      name(ds),
      num(s.desiredNumberScheduled),
      num(s.currentNumberScheduled),
      num(s.numberReady),
      num(s.updatedNumberScheduled),
      num(s.numberAvailable),
      formatLabels(ds.spec?.template?.spec?.nodeSelector),
      age(ds, now),
      names,
      images,
      formatLabelSelector(ds.spec?.selector),
    ];
  },
};

const statefulSetPrinter: Printer = {
  columns: [NAME, col('Ready'), AGE, CONTAINERS, IMAGES],
  cells: (ss, now) => {
    const [names, images] = containerCells(ss.spec?.template?.spec?.containers);
    return [name(ss), `${num(ss.status?.readyReplicas)}/${num(ss.spec?.replicas)}`, age(ss, now), names, images];
  },
};

function jobStatus(job: KubeObject): string {
  const c = job.status?.conditions;
  if (conditionTrue(c, 'Complete')) return 'Complete';
  if (conditionTrue(c, 'Failed')) return 'Failed';
  if (job.metadata?.deletionTimestamp) return 'Terminating';
  if (conditionTrue(c, 'Suspended')) return 'Suspended';
  if (conditionTrue(c, 'FailureTarget')) return 'FailureTarget';
  if (conditionTrue(c, 'SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  return 'Running';
}

const jobPrinter: Printer = {
  columns: [NAME, col('Status'), col('Completions'), col('Duration'), AGE, CONTAINERS, IMAGES, SELECTOR],
  cells: (job, now) => {
    const spec: Obj = job.spec ?? {};
    const succeeded = num(job.status?.succeeded);
    let completions: string;
    if (typeof spec.completions === 'number') completions = `${succeeded}/${spec.completions}`;
    else if (num(spec.parallelism) > 1) completions = `${succeeded}/1 of ${spec.parallelism}`;
    else completions = `${succeeded}/1`;
    const start = job.status?.startTime;
    const end = job.status?.completionTime;
    let duration = '';
    if (start && !end) duration = humanDuration(now.getTime() - Date.parse(start));
    else if (start && end) duration = humanDuration(Date.parse(end) - Date.parse(start));
    const [names, images] = containerCells(spec.template?.spec?.containers);
    return [name(job), jobStatus(job), completions, duration, age(job, now), names, images, formatLabelSelector(spec.selector)];
  },
};

const cronJobPrinter: Printer = {
  columns: [NAME, col('Schedule'), col('Timezone'), col('Suspend', 'boolean'), col('Active', 'integer'), col('Last Schedule'), AGE, CONTAINERS, IMAGES, SELECTOR],
  cells: (cj, now) => {
    const spec: Obj = cj.spec ?? {};
    const last = cj.status?.lastScheduleTime ? since(cj.status.lastScheduleTime, now) : '<none>';
    const [names, images] = containerCells(spec.jobTemplate?.spec?.template?.spec?.containers);
    const suspend = typeof spec.suspend === 'boolean' ? (spec.suspend ? 'True' : 'False') : '<unset>';
    return [
      name(cj),
      spec.schedule ?? '',
      spec.timeZone ?? '<none>',
      suspend,
      arr(cj.status?.active).length,
      last,
      age(cj, now),
      names,
      images,
      formatLabelSelector(spec.jobTemplate?.spec?.selector),
    ];
  },
};

// ---- services and discovery ----------------------------------------------------------------

function loadBalancerIngress(ingress: unknown): string {
  return arr<Obj>(ingress)
    .map((i) => i?.ip || i?.hostname || '')
    .filter(Boolean)
    .join(',');
}

function serviceExternalIP(svc: KubeObject): string {
  const spec: Obj = svc.spec ?? {};
  const external = arr<string>(spec.externalIPs);
  switch (spec.type) {
    case 'ClusterIP':
    case 'NodePort':
      return external.length ? external.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerIngress(svc.status?.loadBalancer?.ingress);
      if (external.length) return [...(lb ? lb.split(',') : []), ...external].join(',');
      return lb || '<pending>';
    }
    case 'ExternalName':
      return spec.externalName ?? '';
  }
  return '<unknown>';
}

function servicePorts(ports: unknown): string {
  return arr<Obj>(ports)
    .map((p) => (p?.nodePort > 0 ? `${p.port}:${p.nodePort}/${p.protocol}` : `${p?.port}/${p?.protocol}`))
    .join(',');
}

const servicePrinter: Printer = {
  columns: [NAME, col('Type'), col('Cluster-IP'), col('External-IP'), col('Port(s)'), AGE, col('Selector', 'string', 1)],
  cells: (svc, now) => {
    const spec: Obj = svc.spec ?? {};
    const clusterIP = arr<string>(spec.clusterIPs)[0] ?? '<none>';
    return [name(svc), spec.type ?? '', clusterIP, serviceExternalIP(svc), servicePorts(spec.ports) || '<none>', age(svc, now), formatLabels(spec.selector)];
  },
};

function formatEndpoints(ep: KubeObject): string {
  const subsets = arr<Obj>(ep.subsets);
  if (subsets.length === 0) return '<none>';
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const ss of subsets) {
    const addrs = arr<Obj>(ss?.addresses);
    const ports = arr<Obj>(ss?.ports);
    if (ports.length === 0) {
      count += addrs.length;
      for (const a of addrs) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(a?.ip);
      }
      continue;
    }
    for (const p of ports) {
      count += addrs.length;
      for (const a of addrs) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(String(a?.ip).includes(':') ? `[${a.ip}]:${p?.port}` : `${a?.ip}:${p?.port}`);
      }
    }
  }
  const joined = list.join(',');
  return more ? `${joined} + ${count - max} more...` : joined;
}

const endpointsPrinter: Printer = { columns: [NAME, col('Endpoints'), AGE], cells: (ep, now) => [name(ep), formatEndpoints(ep), age(ep, now)] };

function listWithMore(items: string[], max = 3): string {
  if (items.length === 0) return '<unset>';
  if (items.length > max) return `${items.slice(0, max).join(',')} + ${items.length - max} more...`;
  return items.join(',');
}

const endpointSlicePrinter: Printer = {
  columns: [NAME, col('AddressType'), col('Ports'), col('Endpoints'), AGE],
  cells: (es, now) => {
    const ports = arr<Obj>(es.ports).map((p) => (typeof p?.port === 'number' ? String(p.port) : p?.name ? String(p.name) : '*'));
    const addresses = arr<Obj>(es.endpoints).flatMap((e) => arr<string>(e?.addresses));
    return [name(es), es.addressType ?? '', listWithMore(ports), listWithMore(addresses), age(es, now)];
  },
};

function formatIngressHosts(rules: unknown): string {
  const list: string[] = [];
  const all = arr<Obj>(rules);
  const max = 3;
  let more = false;
  for (const r of all) {
    if (list.length === max) more = true;
    if (!more && r?.host) list.push(r.host);
  }
  if (list.length === 0) return '*';
  return more ? `${list.join(',')} + ${all.length - max} more...` : list.join(',');
}

const ingressPrinter: Printer = {
  columns: [NAME, col('Class'), col('Hosts'), col('Address'), col('Ports'), AGE],
  cells: (ing, now) => [
    name(ing),
    ing.spec?.ingressClassName ?? '<none>',
    formatIngressHosts(ing.spec?.rules),
    loadBalancerIngress(ing.status?.loadBalancer?.ingress),
    arr(ing.spec?.tls).length ? '80, 443' : '80',
    age(ing, now),
  ],
};

const ingressClassPrinter: Printer = {
  columns: [NAME, col('Controller'), col('Parameters'), AGE],
  cells: (ic, now) => {
    const p = ic.spec?.parameters;
    let params = '<none>';
    if (isObj(p)) params = `${p.kind}${p.apiGroup ? `.${p.apiGroup}` : ''}/${p.name}`;
    return [name(ic), ic.spec?.controller ?? '', params, age(ic, now)];
  },
};

const networkPolicyPrinter: Printer = {
  columns: [NAME, col('Pod-Selector'), AGE],
  cells: (np, now) => [name(np), formatLabelSelector(np.spec?.podSelector ?? {}), age(np, now)],
};

// ---- nodes, namespaces, config -------------------------------------------------------------

function nodeRoles(node: KubeObject): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata?.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const role = k.slice('node-role.kubernetes.io/'.length);
      if (role) roles.add(role);
    } else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  return [...roles].sort().join(',') || '<none>';
}

function nodeAddress(node: KubeObject, type: string): string {
  return arr<Obj>(node.status?.addresses).find((a) => a?.type === type)?.address ?? '<none>';
}

const nodePrinter: Printer = {
  columns: [
    NAME,
    col('Status'),
    col('Roles'),
    AGE,
    col('Version'),
    col('Internal-IP', 'string', 1),
    col('External-IP', 'string', 1),
    col('OS-Image', 'string', 1),
    col('Kernel-Version', 'string', 1),
    col('Container-Runtime', 'string', 1),
  ],
  cells: (node, now) => {
    const ready = arr<Obj>(node.status?.conditions).find((c) => c?.type === 'Ready');
    const status: string[] = [];
    if (ready) status.push(ready.status === 'True' ? 'Ready' : 'NotReady');
    else status.push('Unknown');
    if (node.spec?.unschedulable) status.push('SchedulingDisabled');
    const info: Obj = node.status?.nodeInfo ?? {};
    return [
      name(node),
      status.join(','),
      nodeRoles(node),
      age(node, now),
      info.kubeletVersion ?? '',
      nodeAddress(node, 'InternalIP'),
      nodeAddress(node, 'ExternalIP'),
      info.osImage || '<unknown>',
      info.kernelVersion || '<unknown>',
      info.containerRuntimeVersion || '<unknown>',
    ];
  },
};

const namespacePrinter: Printer = {
  columns: [NAME, col('Status', 'string', 0, 'The status of the namespace'), AGE],
  cells: (ns, now) => [name(ns), ns.status?.phase ?? '', age(ns, now)],
};

const configMapPrinter: Printer = {
  columns: [NAME, col('Data', 'integer'), AGE],
  cells: (cm, now) => [name(cm), Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length, age(cm, now)],
};

const secretPrinter: Printer = {
  columns: [NAME, col('Type'), col('Data', 'integer'), AGE],
  cells: (s, now) => [name(s), s.type ?? '', Object.keys(s.data ?? {}).length, age(s, now)],
};

const serviceAccountPrinter: Printer = {
  columns: [NAME, col('Secrets', 'integer'), AGE],
  cells: (sa, now) => [name(sa), arr(sa.secrets).length, age(sa, now)],
};

function microOrTimestamp(t: unknown, now: Date): string {
  return typeof t === 'string' && t ? since(t, now) : '<unknown>';
}

const eventPrinter: Printer = {
  columns: [
    col('Last Seen'),
    col('Type'),
    col('Reason'),
    col('Object'),
    col('Subobject', 'string', 1),
    col('Source', 'string', 1),
    col('Message'),
    col('First Seen', 'string', 1),
    col('Count', 'string', 1),
    col('Name', 'string', 1),
  ],
  cells: (ev, now) => {
    const first = ev.firstTimestamp ? since(ev.firstTimestamp, now) : microOrTimestamp(ev.eventTime, now);
    let last = ev.lastTimestamp ? since(ev.lastTimestamp, now) : first;
    let count = num(ev.count);
    if (isObj(ev.series)) {
      last = microOrTimestamp(ev.series.lastObservedTime, now);
      count = num(ev.series.count);
    } else if (count === 0) count = 1;
    const involved: Obj = ev.involvedObject ?? ev.regarding ?? {};
    const kind = String(involved.kind ?? '').toLowerCase();
    const target = involved.name ? `${kind}/${involved.name}` : kind;
    const component = ev.source?.component || ev.reportingController || '';
    const host = ev.source?.host || ev.reportingInstance || '';
    const source = host ? `${component}, ${host}` : component;
    return [last, ev.type ?? '', ev.reason ?? '', target, involved.fieldPath ?? '', source, String(ev.message ?? ev.note ?? '').trim(), first, count, name(ev)];
  },
};

// ---- storage -------------------------------------------------------------------------------

function accessModes(modes: unknown): string {
  const list = arr<string>(modes);
  const out: string[] = [];
  if (list.includes('ReadWriteOnce')) out.push('RWO');
  if (list.includes('ReadOnlyMany')) out.push('ROX');
  if (list.includes('ReadWriteMany')) out.push('RWX');
  if (list.includes('ReadWriteOncePod')) out.push('RWOP');
  return out.join(',');
}

const storageClassOf = (o: KubeObject) =>
  o.spec?.storageClassName ?? o.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? '';

const pvPrinter: Printer = {
  columns: [
    NAME,
    col('Capacity'),
    col('Access Modes'),
    col('Reclaim Policy'),
    col('Status'),
    col('Claim'),
    col('StorageClass'),
    col('VolumeAttributesClass'),
    col('Reason'),
    AGE,
    col('VolumeMode', 'string', 1),
  ],
  cells: (pv, now) => {
    const spec: Obj = pv.spec ?? {};
    const claim = isObj(spec.claimRef) ? `${spec.claimRef.namespace}/${spec.claimRef.name}` : '';
    const phase = pv.metadata?.deletionTimestamp ? 'Terminating' : (pv.status?.phase ?? '');
    return [
      name(pv),
      String(spec.capacity?.storage ?? ''),
      accessModes(spec.accessModes),
      spec.persistentVolumeReclaimPolicy ?? '',
      phase,
      claim,
      storageClassOf(pv),
      spec.volumeAttributesClassName || '<unset>',
      pv.status?.reason ?? '',
      age(pv, now),
      spec.volumeMode ?? '<unset>',
    ];
  },
};

const pvcPrinter: Printer = {
  columns: [NAME, col('Status'), col('Volume'), col('Capacity'), col('Access Modes'), col('StorageClass'), col('VolumeAttributesClass'), AGE, col('VolumeMode', 'string', 1)],
  cells: (pvc, now) => {
    const spec: Obj = pvc.spec ?? {};
    const phase = pvc.metadata?.deletionTimestamp ? 'Terminating' : (pvc.status?.phase ?? '');
    let capacity = '';
    let modes = '';
    if (spec.volumeName) {
      modes = accessModes(pvc.status?.accessModes);
      capacity = String(pvc.status?.capacity?.storage ?? '0');
    }
    return [name(pvc), phase, spec.volumeName ?? '', capacity, modes, storageClassOf(pvc), spec.volumeAttributesClassName || '<unset>', age(pvc, now), spec.volumeMode ?? '<unset>'];
  },
};

const storageClassPrinter: Printer = {
  columns: [NAME, col('Provisioner'), col('ReclaimPolicy'), col('VolumeBindingMode'), col('AllowVolumeExpansion'), AGE],
  cells: (sc, now) => {
    const ann = sc.metadata?.annotations ?? {};
    const isDefault = ann['storageclass.kubernetes.io/is-default-class'] === 'true' || ann['storageclass.beta.kubernetes.io/is-default-class'] === 'true';
    return [
      isDefault ? `${name(sc)} (default)` : name(sc),
      sc.provisioner ?? '',
      sc.reclaimPolicy ?? 'Delete',
      sc.volumeBindingMode ?? 'Immediate',
      sc.allowVolumeExpansion === true,
      age(sc, now),
    ];
  },
};

// ---- autoscaling and policy ----------------------------------------------------------------

function hpaTargets(hpa: KubeObject): string {
  const spec: Obj = hpa.spec ?? {};
  const status: Obj = hpa.status ?? {};
  if (typeof spec.targetCPUUtilizationPercentage === 'number' || (!Array.isArray(spec.metrics) && String(hpa.apiVersion).endsWith('/v1'))) {
    const current = typeof status.currentCPUUtilizationPercentage === 'number' ? `${status.currentCPUUtilizationPercentage}%` : '<unknown>';
    const target = typeof spec.targetCPUUtilizationPercentage === 'number' ? `${spec.targetCPUUtilizationPercentage}%` : '<auto>';
    return `cpu: ${current}/${target}`;
  }
  const specs = arr<Obj>(spec.metrics);
  if (specs.length === 0) return '<none>';
  const statuses = arr<Obj>(status.currentMetrics);
  const list: string[] = [];
  specs.forEach((m, i) => {
    const st = statuses[i];
    const withAvg = (src: Obj | undefined, cur: Obj | undefined) => {
      const t = src?.target ?? {};
      if (t.averageValue !== undefined) return `${cur?.current?.averageValue ?? '<unknown>'}/${t.averageValue} (avg)`;
      return `${cur?.current?.value ?? '<unknown>'}/${t.value}`;
    };
    switch (m?.type) {
      case 'External':
        list.push(withAvg(m.external, st?.external));
        break;
      case 'Object':
        list.push(withAvg(m.object, st?.object));
        break;
      case 'Pods':
        list.push(`${st?.pods?.current?.averageValue ?? '<unknown>'}/${m.pods?.target?.averageValue}`);
        break;
      case 'Resource':
      case 'ContainerResource': {
        const src = m.type === 'Resource' ? m.resource : m.containerResource;
        const cur = m.type === 'Resource' ? st?.resource : st?.containerResource;
        const t = src?.target ?? {};
        let text: string;
        if (t.averageValue !== undefined) text = `${cur?.current?.averageValue ?? '<unknown>'}/${t.averageValue}`;
        else {
          const current = typeof cur?.current?.averageUtilization === 'number' ? `${cur.current.averageUtilization}%` : '<unknown>';
          const target = typeof t.averageUtilization === 'number' ? `${t.averageUtilization}%` : '<auto>';
          text = `${current}/${target}`;
        }
        list.push(`${src?.name ?? ''}: ${text}`);
        break;
      }
      default:
        list.push('<unknown type>');
    }
  });
  const max = 2;
  if (list.length > max) return `${list.slice(0, max).join(', ')} + ${list.length - max} more...`;
  return list.join(', ');
}

const hpaPrinter: Printer = {
  columns: [NAME, col('Reference'), col('Targets'), col('MinPods'), col('MaxPods', 'integer'), col('Replicas', 'integer'), AGE],
  cells: (hpa, now) => {
    const ref: Obj = hpa.spec?.scaleTargetRef ?? {};
    const min = typeof hpa.spec?.minReplicas === 'number' ? String(hpa.spec.minReplicas) : '<unset>';
    return [name(hpa), `${ref.kind}/${ref.name}`, hpaTargets(hpa), min, num(hpa.spec?.maxReplicas), num(hpa.status?.currentReplicas), age(hpa, now)];
  },
};

const pdbPrinter: Printer = {
  columns: [NAME, col('Min Available'), col('Max Unavailable'), col('Allowed Disruptions', 'integer'), AGE],
  cells: (pdb, now) => {
    const s: Obj = pdb.spec ?? {};
    return [
      name(pdb),
      s.minAvailable !== undefined && s.minAvailable !== null ? String(s.minAvailable) : 'N/A',
      s.maxUnavailable !== undefined && s.maxUnavailable !== null ? String(s.maxUnavailable) : 'N/A',
      num(pdb.status?.disruptionsAllowed),
      age(pdb, now),
    ];
  },
};

// ---- RBAC, scheduling, misc ----------------------------------------------------------------

const CREATED_AT = col('Created At', 'date', 0, 'CreationTimestamp is a timestamp representing the server time when this object was created.');
const createdAt = (o: KubeObject) => {
  const t = o.metadata?.creationTimestamp;
  return t ? new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z') : '<unknown>';
};
const nameCreatedAtPrinter: Printer = { columns: [NAME, CREATED_AT], cells: (o) => [name(o), createdAt(o)] };

const bindingPrinter: Printer = {
  columns: [NAME, col('Role'), AGE, col('Users', 'string', 1), col('Groups', 'string', 1), col('ServiceAccounts', 'string', 1)],
  cells: (b, now) => {
    const subjects = arr<Obj>(b.subjects);
    const users = subjects.filter((s) => s?.kind === 'User').map((s) => s.name);
    const groups = subjects.filter((s) => s?.kind === 'Group').map((s) => s.name);
    const sas = subjects.filter((s) => s?.kind === 'ServiceAccount').map((s) => `${s.namespace ?? ''}:${s.name}`);
    return [name(b), `${b.roleRef?.kind}/${b.roleRef?.name}`, age(b, now), users.join(', '), groups.join(', '), sas.join(', ')];
  },
};

const leasePrinter: Printer = {
  columns: [NAME, col('Holder'), AGE],
  cells: (l, now) => [name(l), l.spec?.holderIdentity ?? '', age(l, now)],
};

const priorityClassPrinter: Printer = {
  columns: [NAME, col('Value', 'integer'), col('Global-Default', 'boolean'), AGE, col('PreemptionPolicy')],
  cells: (pc, now) => [name(pc), num(pc.value), pc.globalDefault === true, age(pc, now), pc.preemptionPolicy ?? 'PreemptLowerPriority'],
};

const runtimeClassPrinter: Printer = {
  columns: [NAME, col('Handler'), AGE],
  cells: (rc, now) => [name(rc), rc.handler ?? '', age(rc, now)],
};

const apiServicePrinter: Printer = {
  columns: [NAME, col('Service'), col('Available'), AGE],
  cells: (a, now) => {
    const svc = isObj(a.spec?.service) ? `${a.spec.service.namespace}/${a.spec.service.name}` : 'Local';
    const cond = arr<Obj>(a.status?.conditions).find((c) => c?.type === 'Available');
    let available = 'Unknown';
    if (cond) available = cond.status === 'True' ? 'True' : `${cond.status} (${cond.reason})`;
    return [name(a), svc, available, age(a, now)];
  },
};

const csrPrinter: Printer = {
  columns: [NAME, AGE, col('SignerName'), col('Requestor'), col('RequestedDuration'), col('Condition')],
  cells: (csr, now) => {
    const conds = arr<Obj>(csr.status?.conditions);
    const found = (t: string) => conds.some((c) => c?.type === t);
    const parts: string[] = [];
    if (found('Approved')) parts.push('Approved');
    if (found('Denied')) parts.push('Denied');
    if (found('Failed')) parts.push('Failed');
    if (parts.length === 0) parts.push('Pending');
    if (csr.status?.certificate) parts.push('Issued');
    const d = csr.spec?.expirationSeconds;
    return [name(csr), age(csr, now), csr.spec?.signerName ?? '', csr.spec?.username ?? '', typeof d === 'number' ? humanDuration(d * 1000) : '<none>', parts.join(',')];
  },
};

const controllerRevisionPrinter: Printer = {
  columns: [NAME, col('Controller'), col('Revision', 'integer'), AGE],
  cells: (cr, now) => {
    const ref = arr<Obj>(cr.metadata?.ownerReferences).find((r) => r?.controller === true);
    let controller = '<none>';
    if (ref) {
      const apiVersion = String(ref.apiVersion ?? '');
      const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
      controller = `${(group ? `${ref.kind}.${group}` : String(ref.kind)).toLowerCase()}/${ref.name}`;
    }
    return [name(cr), controller, num(cr.revision), age(cr, now)];
  },
};

const resourceQuotaPrinter: Printer = {
  columns: [NAME, AGE, col('Request'), col('Limit')],
  cells: (rq, now) => {
    const hard: Obj = rq.spec?.hard ?? {};
    const request: string[] = [];
    const limit: string[] = [];
    for (const r of Object.keys(hard).sort()) {
      const used = String(rq.status?.used?.[r] ?? '0');
      const h = String(rq.status?.hard?.[r] ?? '0');
      (r.split('.').length > 1 && r.split('.')[0] === 'limits' ? limit : request).push(`${r}: ${used}/${h}`);
    }
    return [name(rq), age(rq, now), request.join(', '), limit.join(', ')];
  },
};

const podTemplatePrinter: Printer = {
  columns: [NAME, col('Containers'), col('Images'), col('Pod Labels')],
  cells: (pt) => {
    const [names, images] = containerCells(pt.template?.spec?.containers);
    return [name(pt), names, images, formatLabels(pt.template?.metadata?.labels)];
  },
};

/** For kinds without their own printer (custom resources without additionalPrinterColumns). */
export const defaultPrinter: Printer = { columns: [NAME, AGE], cells: (o, now) => [name(o), age(o, now)] };

export const printers: Record<string, Printer> = {
  Pod: podPrinter,
  PodTemplate: podTemplatePrinter,
  ReplicationController: replicationControllerPrinter,
  Service: servicePrinter,
  Endpoints: endpointsPrinter,
  Node: nodePrinter,
  Namespace: namespacePrinter,
  ConfigMap: configMapPrinter,
  Secret: secretPrinter,
  ServiceAccount: serviceAccountPrinter,
  Event: eventPrinter,
  'Event.events.k8s.io': eventPrinter,
  PersistentVolume: pvPrinter,
  PersistentVolumeClaim: pvcPrinter,
  ResourceQuota: resourceQuotaPrinter,
  LimitRange: nameCreatedAtPrinter,
  'Deployment.apps': deploymentPrinter,
  'ReplicaSet.apps': replicaSetPrinter,
  'DaemonSet.apps': daemonSetPrinter,
  'StatefulSet.apps': statefulSetPrinter,
  'ControllerRevision.apps': controllerRevisionPrinter,
  'Job.batch': jobPrinter,
  'CronJob.batch': cronJobPrinter,
  'EndpointSlice.discovery.k8s.io': endpointSlicePrinter,
  'Ingress.networking.k8s.io': ingressPrinter,
  'IngressClass.networking.k8s.io': ingressClassPrinter,
  'NetworkPolicy.networking.k8s.io': networkPolicyPrinter,
  'HorizontalPodAutoscaler.autoscaling': hpaPrinter,
  'PodDisruptionBudget.policy': pdbPrinter,
  'StorageClass.storage.k8s.io': storageClassPrinter,
  'Lease.coordination.k8s.io': leasePrinter,
  'Role.rbac.authorization.k8s.io': nameCreatedAtPrinter,
  'ClusterRole.rbac.authorization.k8s.io': nameCreatedAtPrinter,
  'RoleBinding.rbac.authorization.k8s.io': bindingPrinter,
  'ClusterRoleBinding.rbac.authorization.k8s.io': bindingPrinter,
  'PriorityClass.scheduling.k8s.io': priorityClassPrinter,
  'RuntimeClass.node.k8s.io': runtimeClassPrinter,
  'CustomResourceDefinition.apiextensions.k8s.io': nameCreatedAtPrinter,
  'APIService.apiregistration.k8s.io': apiServicePrinter,
  'CertificateSigningRequest.certificates.k8s.io': csrPrinter,
};

export function printerFor(gk: string): Printer {
  return printers[gk] ?? defaultPrinter;
}

export { humanDuration, since };
