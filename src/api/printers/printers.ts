// Server-side printing: the columns and cells `kubectl get` shows for each kind, matching
// Kubernetes' own printers (pkg/printers/internalversion) column for column.
import type { KubeObject, Printer, TableColumn } from '../types.js';
import { containersAndImages, formatLabelSelector, formatLabels, humanDuration, orNone, since } from './format.js';

type Cell = string | number | boolean;

function col(name: string, type: TableColumn['type'] = 'string', priority = 0, description = ''): TableColumn {
  const c: TableColumn = { name, type, priority, description };
  if (name === 'Name') {
    c.format = 'name';
    c.description ||= 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';
  }
  if (name === 'Age') c.description ||= 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.';
  return c;
}

function printer(columns: TableColumn[], cells: (o: KubeObject, now: Date) => Cell[]): Printer {
  return { columns, cells };
}

const age = (o: KubeObject, now: Date) => since(o.metadata.creationTimestamp, now);
const int = (v: unknown) => (typeof v === 'number' ? v : 0);

// ---------- Pod ----------

interface ContainerStatus {
  name: string;
  ready?: boolean;
  restartCount?: number;
  state?: { waiting?: { reason?: string }; running?: object; terminated?: { reason?: string; exitCode?: number; signal?: number; finishedAt?: string } };
  lastState?: { terminated?: { finishedAt?: string } };
}

export function podStatusCells(pod: KubeObject, now: Date): { ready: string; status: string; restarts: string } {
  const spec = pod.spec ?? {};
  const status = pod.status ?? {};
  const restartableInit = new Set<string>((spec.initContainers ?? []).filter((c: { restartPolicy?: string }) => c.restartPolicy === 'Always').map((c: { name: string }) => c.name));
  let total = (spec.containers ?? []).length + restartableInit.size;
  let readyContainers = 0;
  let restarts = 0;
  let lastRestart = 0;
  let reason: string = status.reason || status.phase || 'Pending';
  const noteRestart = (c: ContainerStatus) => {
    const finished = c.lastState?.terminated?.finishedAt;
    if (finished) lastRestart = Math.max(lastRestart, Date.parse(finished));
  };

  let initializing = false;
  const initStatuses: ContainerStatus[] = status.initContainerStatuses ?? [];
  const initCount = (spec.initContainers ?? []).length;
  for (let i = 0; i < initStatuses.length; i++) {
    const c = initStatuses[i];
    restarts += c.restartCount ?? 0;
    noteRestart(c);
    if (restartableInit.has(c.name) && c.state?.running) {
      if (c.ready) readyContainers++;
      continue;
    }
    const t = c.state?.terminated;
    if (t && t.exitCode === 0) continue;
    if (t) {
      reason = t.reason ? `Init:${t.reason}` : t.signal ? `Init:Signal:${t.signal}` : `Init:ExitCode:${t.exitCode}`;
    } else if (c.state?.waiting?.reason && c.state.waiting.reason !== 'PodInitializing') {
      reason = `Init:${c.state.waiting.reason}`;
    } else {
      reason = `Init:${i}/${initCount}`;
    }
    initializing = true;
    break;
  }
  if (!initializing || isPodInitialized(pod)) {
    if (!initializing) restarts = initStatuses.filter((c) => restartableInit.has(c.name)).reduce((n, c) => n + (c.restartCount ?? 0), 0);
    let hasRunning = false;
    const statuses: ContainerStatus[] = status.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i];
      restarts += c.restartCount ?? 0;
      noteRestart(c);
      if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
      else if (c.state?.terminated?.reason) reason = c.state.terminated.reason;
      else if (c.state?.terminated) reason = c.state.terminated.signal ? `Signal:${c.state.terminated.signal}` : `ExitCode:${c.state.terminated.exitCode}`;
      else if (c.ready && c.state?.running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      reason = (status.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
    }
  }
  if (pod.metadata.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata.deletionTimestamp) reason = 'Terminating';
  total = Math.max(total, 0);
  const restartText = lastRestart > 0 ? `${restarts} (${humanDuration(now.getTime() - lastRestart)} ago)` : String(restarts);
  return { ready: `${readyContainers}/${total}`, status: reason, restarts: restartText };
}

function isPodInitialized(pod: KubeObject): boolean {
  return (pod.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Initialized' && c.status === 'True');
}

const podPrinter = printer(
  [
    col('Name'),
    col('Ready', 'string', 0, 'The aggregate readiness state of this pod for accepting traffic.'),
    col('Status', 'string', 0, 'The aggregate status of the containers in this pod.'),
    col('Restarts', 'string', 0, 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    col('Age'),
    col('IP', 'string', 1, 'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.'),
    col('Node', 'string', 1, 'NodeName is a request to schedule this pod onto a specific node.'),
    col('Nominated Node', 'string', 1, 'nominatedNodeName is set when this pod preempts other pods on the node.'),
    col('Readiness Gates', 'string', 1, 'If specified, all readiness gates will be evaluated for pod readiness.'),
  ],
  (o, now) => {
    const s = podStatusCells(o, now);
    const gates: { conditionType: string }[] = o.spec?.readinessGates ?? [];
    let gateText = '<none>';
    if (gates.length) {
      const trueCount = gates.filter((g) => (o.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === g.conditionType && c.status === 'True')).length;
      gateText = `${trueCount}/${gates.length}`;
    }
    return [o.metadata.name!, s.ready, s.status, s.restarts, age(o, now), o.status?.podIPs?.[0]?.ip ?? o.status?.podIP ?? '<none>', orNone(o.spec?.nodeName), orNone(o.status?.nominatedNodeName), gateText];
  },
);

// ---------- workloads ----------

const workloadWide = [col('Containers', 'string', 1, 'Names of each container in the template.'), col('Images', 'string', 1, 'Images referenced by each container in the template.'), col('Selector', 'string', 1, 'Label selector for pods.')];

const deploymentPrinter = printer(
  [col('Name'), col('Ready', 'string', 0, 'Number of the pod with ready state'), col('Up-to-date', 'integer', 0, 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'), col('Available', 'integer', 0, 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'), col('Age'), ...workloadWide],
  (o, now) => [o.metadata.name!, `${int(o.status?.readyReplicas)}/${o.spec?.replicas ?? 1}`, int(o.status?.updatedReplicas), int(o.status?.availableReplicas), age(o, now), ...containersAndImages(o.spec?.template?.spec), formatLabelSelector(o.spec?.selector)],
);

const replicaSetPrinter = printer(
  [col('Name'), col('Desired', 'integer', 0, 'Number of desired pods.'), col('Current', 'integer', 0, 'Number of actual replicas observed.'), col('Ready', 'integer', 0, 'Number of pods ready.'), col('Age'), ...workloadWide],
  (o, now) => [o.metadata.name!, o.spec?.replicas ?? 1, int(o.status?.replicas), int(o.status?.readyReplicas), age(o, now), ...containersAndImages(o.spec?.template?.spec), formatLabelSelector(o.spec?.selector)],
);

const replicationControllerPrinter = printer(replicaSetPrinter.columns, (o, now) => [o.metadata.name!, o.spec?.replicas ?? 1, int(o.status?.replicas), int(o.status?.readyReplicas), age(o, now), ...containersAndImages(o.spec?.template?.spec), formatLabels(o.spec?.selector)]);

const daemonSetPrinter = printer(
  [
    col('Name'),
    col('Desired', 'integer', 0, 'The total number of nodes that should be running the daemon pod.'),
    col('Current', 'integer', 0, 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.'),
    col('Ready', 'integer', 0, 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.'),
    col('Up-to-date', 'integer', 0, 'The total number of nodes that are running updated daemon pod'),
    col('Available', 'integer', 0, 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)'),
    col('Node Selector', 'string', 0, 'NodeSelector is a selector which must be true for the pod to fit on a node.'),
    col('Age'),
    ...workloadWide,
  ],
  (o, now) => [o.metadata.name!, int(o.status?.desiredNumberScheduled), int(o.status?.currentNumberScheduled), int(o.status?.numberReady), int(o.status?.updatedNumberScheduled), int(o.status?.numberAvailable), formatLabels(o.spec?.template?.spec?.nodeSelector), age(o, now), ...containersAndImages(o.spec?.template?.spec), formatLabelSelector(o.spec?.selector)],
);

const statefulSetPrinter = printer(
  [col('Name'), col('Ready', 'string', 0, 'Number of the pod with ready state'), col('Age'), col('Containers', 'string', 1, 'Names of each container in the template.'), col('Images', 'string', 1, 'Images referenced by each container in the template.')],
  (o, now) => [o.metadata.name!, `${int(o.status?.readyReplicas)}/${o.spec?.replicas ?? 1}`, age(o, now), ...containersAndImages(o.spec?.template?.spec)],
);

function hasCondition(o: KubeObject, type: string): boolean {
  return (o.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === type && c.status === 'True');
}

export function jobStatus(o: KubeObject): string {
  if (hasCondition(o, 'Complete')) return 'Complete';
  if (hasCondition(o, 'Failed')) return 'Failed';
  if (o.metadata.deletionTimestamp) return 'Terminating';
  if (hasCondition(o, 'Suspended')) return 'Suspended';
  if (hasCondition(o, 'FailureTarget')) return 'FailureTarget';
  if (hasCondition(o, 'SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  return 'Running';
}

const jobPrinter = printer(
  [col('Name'), col('Status', 'string', 0, 'Status of the job.'), col('Completions', 'string', 0, 'The completion status of the job.'), col('Duration', 'string', 0, 'Time required to complete the job.'), col('Age'), ...workloadWide],
  (o, now) => {
    let completions: string;
    if (o.spec?.completions !== undefined && o.spec?.completions !== null) completions = `${int(o.status?.succeeded)}/${o.spec.completions}`;
    else {
      const parallelism = o.spec?.parallelism ?? 0;
      completions = parallelism > 1 ? `${int(o.status?.succeeded)}/1 of ${parallelism}` : `${int(o.status?.succeeded)}/1`;
    }
    let duration = '';
    if (o.status?.startTime) {
      const start = Date.parse(o.status.startTime);
      const end = o.status.completionTime ? Date.parse(o.status.completionTime) : now.getTime();
      duration = humanDuration(end - start);
    }
    return [o.metadata.name!, jobStatus(o), completions, duration, age(o, now), ...containersAndImages(o.spec?.template?.spec), formatLabelSelector(o.spec?.selector)];
  },
);

const cronJobPrinter = printer(
  [
    col('Name'),
    col('Schedule', 'string', 0, 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.'),
    col('Timezone', 'string', 0, 'The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones.'),
    col('Suspend', 'boolean', 0, 'This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.'),
    col('Active', 'integer', 0, 'A list of pointers to currently running jobs.'),
    col('Last Schedule', 'string', 0, 'Information when was the last time the job was successfully scheduled.'),
    col('Age'),
    col('Containers', 'string', 1, 'Names of each container in the template.'),
    col('Images', 'string', 1, 'Images referenced by each container in the template.'),
    col('Selector', 'string', 1, 'Label selector for pods.'),
  ],
  (o, now) => {
    const template = o.spec?.jobTemplate?.spec;
    return [
      o.metadata.name!,
      o.spec?.schedule ?? '',
      orNone(o.spec?.timeZone),
      o.spec?.suspend ? 'True' : 'False',
      (o.status?.active ?? []).length,
      o.status?.lastScheduleTime ? since(o.status.lastScheduleTime, now) : '<none>',
      age(o, now),
      ...containersAndImages(template?.template?.spec),
      formatLabelSelector(template?.selector),
    ];
  },
);

const controllerRevisionPrinter = printer(
  [col('Name'), col('Controller', 'string', 0, 'Controller of the object.'), col('Revision', 'integer', 0, 'Revision indicates the revision of the state represented by Data.'), col('Age')],
  (o, now) => {
    const owner = (o.metadata.ownerReferences ?? []).find((r) => r.controller);
    const controller = owner ? `${owner.kind.toLowerCase()}.${owner.apiVersion.split('/')[0]}/${owner.name}` : '<none>';
    return [o.metadata.name!, controller, int(o.revision), age(o, now)];
  },
);

// ---------- services and networking ----------

function loadBalancerAddresses(status: { ingress?: { ip?: string; hostname?: string }[] } | undefined, wide: boolean): string {
  const addresses = (status?.ingress ?? []).map((i) => i.ip || i.hostname).filter(Boolean) as string[];
  const text = addresses.join(',');
  return !wide && text.length > 16 ? `${text.slice(0, 13)}...` : text;
}

function serviceExternalIp(o: KubeObject, wide: boolean): string {
  const spec = o.spec ?? {};
  const external: string[] = spec.externalIPs ?? [];
  switch (spec.type ?? 'ClusterIP') {
    case 'ClusterIP':
    case 'NodePort':
      return external.length ? external.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerAddresses(o.status?.loadBalancer, wide);
      const all = [lb, ...external].filter(Boolean).join(',');
      return all || '<pending>';
    }
    case 'ExternalName':
      return spec.externalName ?? '';
    default:
      return '<unknown>';
  }
}

function servicePorts(o: KubeObject): string {
  const ports: { port: number; nodePort?: number; protocol?: string }[] = o.spec?.ports ?? [];
  if (ports.length === 0) return '<none>';
  return ports.map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`)).join(',');
}

const servicePrinter = printer(
  [
    col('Name'),
    col('Type', 'string', 0, 'type determines how the Service is exposed.'),
    col('Cluster-IP', 'string', 0, 'clusterIP is the IP address of the service and is usually assigned randomly.'),
    col('External-IP', 'string', 0, 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.'),
    col('Port(s)', 'string', 0, 'The list of ports that are exposed by this service.'),
    col('Age'),
    col('Selector', 'string', 1, 'Route service traffic to pods with label keys and values matching this selector.'),
  ],
  (o, now) => [o.metadata.name!, o.spec?.type ?? 'ClusterIP', orNone(o.spec?.clusterIP), serviceExternalIp(o, false), servicePorts(o), age(o, now), formatLabels(o.spec?.selector)],
);

const endpointsPrinter = printer([col('Name'), col('Endpoints', 'string', 0, 'Endpoints is the list of endpoints.'), col('Age')], (o, now) => {
  const list: string[] = [];
  let more = 0;
  for (const subset of o.subsets ?? []) {
    for (const address of subset.addresses ?? []) {
      const ports: { port: number }[] = subset.ports?.length ? subset.ports : [{ port: 0 }];
      for (const p of ports) {
        if (list.length < 3) list.push(p.port ? `${address.ip}:${p.port}` : address.ip);
        else more++;
      }
    }
  }
  let text = list.length ? list.join(',') : '<none>';
  if (more) text += ` + ${more} more...`;
  return [o.metadata.name!, text, age(o, now)];
});

const endpointSlicePrinter = printer(
  [col('Name'), col('AddressType', 'string', 0, 'addressType specifies the type of address carried by this EndpointSlice.'), col('Ports', 'string', 0, 'ports specifies the list of network ports exposed by each endpoint in this slice.'), col('Endpoints', 'string', 0, 'endpoints is a list of unique endpoints in this slice.'), col('Age')],
  (o, now) => {
    const ports: { port?: number }[] = o.ports ?? [];
    const portText = ports.length ? ports.map((p) => (p.port === undefined || p.port === null ? '<unset>' : String(p.port))).join(',') : '<unset>';
    const addresses: string[] = (o.endpoints ?? []).flatMap((e: { addresses?: string[] }) => e.addresses ?? []);
    let endpointText = addresses.length ? addresses.slice(0, 3).join(',') : '<unset>';
    if (addresses.length > 3) endpointText += ` + ${addresses.length - 3} more...`;
    return [o.metadata.name!, o.addressType ?? '', portText, endpointText, age(o, now)];
  },
);

const ingressPrinter = printer(
  [col('Name'), col('Class', 'string', 0, 'The name of the IngressClass resource.'), col('Hosts', 'string', 0, 'Hosts that incoming requests are matched against before the ingress rule'), col('Address', 'string', 0, 'Address is a list containing ingress points for the load-balancer'), col('Ports', 'string', 0, 'Ports of TLS configurations that open'), col('Age')],
  (o, now) => {
    const hosts = (o.spec?.rules ?? []).map((r: { host?: string }) => r.host).filter(Boolean);
    const address = (o.status?.loadBalancer?.ingress ?? []).map((i: { ip?: string; hostname?: string }) => i.ip || i.hostname).join(',');
    return [o.metadata.name!, orNone(o.spec?.ingressClassName), hosts.length ? hosts.join(',') : '*', address, o.spec?.tls?.length ? '80, 443' : '80', age(o, now)];
  },
);

const ingressClassPrinter = printer([col('Name'), col('Controller', 'string', 0, 'Controller that is responsible for handling this class.'), col('Parameters', 'string', 0, 'A reference to a resource with additional parameters.'), col('Age')], (o, now) => {
  const p = o.spec?.parameters;
  const params = p ? `${p.kind}.${p.apiGroup ?? ''}/${p.name}`.replace('./', '/') : '<none>';
  return [o.metadata.name!, o.spec?.controller ?? '', params, age(o, now)];
});

const networkPolicyPrinter = printer([col('Name'), col('Pod-Selector', 'string', 0, 'Selects the pods to which this NetworkPolicy object applies.'), col('Age')], (o, now) => [o.metadata.name!, formatLabelSelector(o.spec?.podSelector), age(o, now)]);

// ---------- cluster ----------

const nodePrinter = printer(
  [
    col('Name'),
    col('Status', 'string', 0, 'The status of the node'),
    col('Roles', 'string', 0, 'The roles of the node'),
    col('Age'),
    col('Version', 'string', 0, 'Kubelet Version reported by the node.'),
    col('Internal-IP', 'string', 1, 'List of addresses reachable to the node. Queried from cloud provider, if available.'),
    col('External-IP', 'string', 1, 'List of addresses reachable to the node. Queried from cloud provider, if available.'),
    col('OS-Image', 'string', 1, 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).'),
    col('Kernel-Version', 'string', 1, 'Kernel Version reported by the node from `uname -r` (e.g. 3.16.0-0.bpo.4-amd64).'),
    col('Container-Runtime', 'string', 1, 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).'),
  ],
  (o, now) => {
    const conditions: { type: string; status: string }[] = o.status?.conditions ?? [];
    const statuses: string[] = [];
    const ready = conditions.find((c) => c.type === 'Ready');
    if (ready) statuses.push(ready.status === 'True' ? 'Ready' : 'NotReady');
    if (statuses.length === 0) statuses.push('Unknown');
    if (o.spec?.unschedulable) statuses.push('SchedulingDisabled');
    const roles = new Set<string>();
    for (const [k, v] of Object.entries(o.metadata.labels ?? {})) {
      if (k.startsWith('node-role.kubernetes.io/')) roles.add(k.slice('node-role.kubernetes.io/'.length));
      else if (k === 'kubernetes.io/role' && v) roles.add(v);
    }
    const address = (type: string) => (o.status?.addresses ?? []).find((a: { type: string }) => a.type === type)?.address ?? '<none>';
    const info = o.status?.nodeInfo ?? {};
    return [o.metadata.name!, statuses.join(','), roles.size ? [...roles].sort().join(',') : '<none>', age(o, now), info.kubeletVersion ?? '', address('InternalIP'), address('ExternalIP'), info.osImage || '<unknown>', info.kernelVersion || '<unknown>', info.containerRuntimeVersion || '<unknown>'];
  },
);

const namespacePrinter = printer([col('Name'), col('Status', 'string', 0, 'The status of the namespace'), col('Age')], (o, now) => [o.metadata.name!, o.status?.phase ?? '', age(o, now)]);

const eventPrinter = printer(
  [
    col('Last Seen', 'string', 0, 'Time when last event from this source was observed.'),
    col('Type', 'string', 0, 'Type of this event (Normal, Warning), new types could be added in the future.'),
    col('Reason', 'string', 0, 'This should be a short, machine understandable string that gives the reason for the transition into the object\'s current status.'),
    col('Object', 'string', 0, 'The object that this event is about.'),
    col('Subobject', 'string', 1, 'The subobject that this event is about.'),
    col('Source', 'string', 1, 'The component reporting this event. Should be a short machine understandable string.'),
    col('Message', 'string', 0, 'A human-readable description of the status of this operation.'),
    col('First Seen', 'string', 1, 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)'),
    col('Count', 'string', 1, 'The number of times this event has occurred.'),
    col('Name', 'string', 1),
  ],
  (o, now) => {
    const first = o.firstTimestamp ? since(o.firstTimestamp, now) : since(o.eventTime, now);
    let last = o.lastTimestamp ? since(o.lastTimestamp, now) : first;
    let count = o.count ?? 1;
    if (o.series) {
      last = since(o.series.lastObservedTime, now);
      count = o.series.count ?? count;
    } else if (count > 1) {
      last = `${last} (x${count} over ${first})`;
    }
    const involved = o.involvedObject ?? o.regarding ?? {};
    const source = o.source?.component ? (o.source.host ? `${o.source.component}, ${o.source.host}` : o.source.component) : (o.reportingComponent ?? '');
    return [last, o.type ?? '', o.reason ?? '', `${String(involved.kind ?? '').toLowerCase()}/${involved.name ?? ''}`, involved.fieldPath ?? '', source, String(o.message ?? o.note ?? '').trim(), first, String(count), o.metadata.name!];
  },
);

const configMapPrinter = printer([col('Name'), col('Data', 'integer', 0, 'Data contains the configuration data.'), col('Age')], (o, now) => [o.metadata.name!, Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length, age(o, now)]);

const secretPrinter = printer([col('Name'), col('Type', 'string', 0, 'The type of the secret'), col('Data', 'integer', 0, 'The number of entries in the secret'), col('Age')], (o, now) => [o.metadata.name!, o.type ?? 'Opaque', Object.keys(o.data ?? {}).length, age(o, now)]);

const serviceAccountPrinter = printer([col('Name'), col('Secrets', 'integer', 0, 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.'), col('Age')], (o, now) => [o.metadata.name!, (o.secrets ?? []).length, age(o, now)]);

const accessModeOrder = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'];
const accessModeShort: Record<string, string> = { ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' };
function accessModes(modes: string[] | undefined): string {
  return accessModeOrder.filter((m) => (modes ?? []).includes(m)).map((m) => accessModeShort[m]).join(',');
}

const pvPrinter = printer(
  [
    col('Name'),
    col('Capacity', 'string', 0, 'capacity is the description of the persistent volume\'s resources and capacity.'),
    col('Access Modes', 'string', 0, 'accessModes contains all ways the volume can be mounted.'),
    col('Reclaim Policy', 'string', 0, 'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.'),
    col('Status', 'string', 0, 'phase indicates if a volume is available, bound to a claim, or released by a claim.'),
    col('Claim', 'string', 0, 'claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.'),
    col('StorageClass', 'string', 0, 'storageClassName is the name of StorageClass to which this persistent volume belongs.'),
    col('VolumeAttributesClass', 'string', 0, 'Name of VolumeAttributesClass to which this persistent volume belongs.'),
    col('Reason', 'string', 0, 'reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.'),
    col('Age'),
    col('VolumeMode', 'string', 1, 'volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.'),
  ],
  (o, now) => {
    const claim = o.spec?.claimRef ? `${o.spec.claimRef.namespace}/${o.spec.claimRef.name}` : '';
    return [o.metadata.name!, o.spec?.capacity?.storage ?? '', accessModes(o.spec?.accessModes), o.spec?.persistentVolumeReclaimPolicy ?? '', o.status?.phase ?? '', claim, o.spec?.storageClassName ?? '', orNone(o.spec?.volumeAttributesClassName), o.status?.reason ?? '', age(o, now), o.spec?.volumeMode ?? 'Filesystem'];
  },
);

const pvcPrinter = printer(
  [
    col('Name'),
    col('Status', 'string', 0, 'phase represents the current phase of PersistentVolumeClaim.'),
    col('Volume', 'string', 0, 'volumeName is the binding reference to the PersistentVolume backing this claim.'),
    col('Capacity', 'string', 0, 'capacity represents the actual resources of the underlying volume.'),
    col('Access Modes', 'string', 0, 'accessModes contains the actual access modes the volume backing the PVC has.'),
    col('StorageClass', 'string', 0, 'storageClassName is the name of the StorageClass required by the claim.'),
    col('VolumeAttributesClass', 'string', 0, 'volumeAttributesClassName may be used to set the VolumeAttributesClass used by this claim.'),
    col('Age'),
    col('VolumeMode', 'string', 1, 'volumeMode defines what type of volume is required by the claim.'),
  ],
  (o, now) => {
    const bound = o.status?.phase === 'Bound';
    return [o.metadata.name!, o.status?.phase ?? '', o.spec?.volumeName ?? '', bound ? (o.status?.capacity?.storage ?? '') : '', bound ? accessModes(o.status?.accessModes) : '', o.spec?.storageClassName ?? '', orNone(o.spec?.volumeAttributesClassName), age(o, now), o.spec?.volumeMode ?? 'Filesystem'];
  },
);

const storageClassPrinter = printer(
  [
    col('Name'),
    col('Provisioner', 'string', 0, 'Indicates the type of the provisioner.'),
    col('ReclaimPolicy', 'string', 0, 'Dynamically provisioned PersistentVolumes of this storage class are created with this reclaimPolicy. Defaults to Delete.'),
    col('VolumeBindingMode', 'string', 0, 'VolumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  When unset, VolumeBindingImmediate is used.'),
    col('AllowVolumeExpansion', 'string', 0, 'AllowVolumeExpansion shows whether the storage class allow volume expand.'),
    col('Age'),
  ],
  (o, now) => {
    const isDefault = o.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true' || o.metadata.annotations?.['storageclass.beta.kubernetes.io/is-default-class'] === 'true';
    return [isDefault ? `${o.metadata.name} (default)` : o.metadata.name!, o.provisioner ?? '', o.reclaimPolicy ?? 'Delete', o.volumeBindingMode ?? 'Immediate', String(!!o.allowVolumeExpansion), age(o, now)];
  },
);

function hpaTargets(o: KubeObject): string {
  const metrics: KubeObject[] = o.spec?.metrics ?? [];
  const current: KubeObject[] = o.status?.currentMetrics ?? [];
  if (metrics.length === 0) return '<none>';
  const parts = metrics.map((m, i) => {
    if (m.type === 'Resource') {
      const cur = current[i]?.resource?.current;
      const target = m.resource?.target ?? {};
      const name = m.resource?.name;
      if (target.averageUtilization !== undefined) {
        const c = cur?.averageUtilization !== undefined ? `${cur.averageUtilization}%` : '<unknown>';
        return `${name}: ${c}/${target.averageUtilization}%`;
      }
      const c = cur?.averageValue ?? '<unknown>';
      return `${name}: ${c}/${target.averageValue ?? target.value}`;
    }
    const kind = m.type === 'Pods' ? m.pods : m.type === 'Object' ? m.object : m.type === 'External' ? m.external : m.containerResource;
    const t = kind?.target ?? {};
    return `${t.averageValue ?? t.value ?? t.averageUtilization ?? ''}`.length ? `<unknown>/${t.averageValue ?? t.value ?? `${t.averageUtilization}%`}` : '<unknown>';
  });
  const shown = parts.slice(0, 2).join(', ');
  return parts.length > 2 ? `${shown} + ${parts.length - 2} more...` : shown;
}

const hpaPrinter = printer(
  [
    col('Name'),
    col('Reference', 'string', 0, 'reference to scaled resource; horizontal pod autoscaler will learn the current resource consumption and will set the desired number of pods by using its Scale subresource.'),
    col('Targets', 'string', 0, 'metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).'),
    col('MinPods', 'string', 0, 'minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.'),
    col('MaxPods', 'integer', 0, 'maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.'),
    col('Replicas', 'integer', 0, 'currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.'),
    col('Age'),
  ],
  (o, now) => {
    const ref = o.spec?.scaleTargetRef ?? {};
    const targets = o.spec?.metrics ? hpaTargets(o) : o.spec?.targetCPUUtilizationPercentage !== undefined ? `cpu: ${o.status?.currentCPUUtilizationPercentage !== undefined ? `${o.status.currentCPUUtilizationPercentage}%` : '<unknown>'}/${o.spec.targetCPUUtilizationPercentage}%` : '<none>';
    return [o.metadata.name!, `${ref.kind}/${ref.name}`, targets, o.spec?.minReplicas !== undefined ? String(o.spec.minReplicas) : '<unset>', int(o.spec?.maxReplicas), int(o.status?.currentReplicas), age(o, now)];
  },
);

const pdbPrinter = printer(
  [col('Name'), col('Min Available', 'string', 0, 'The minimum number of pods that must be available simultaneously.  This can be either an integer or percentage.'), col('Max Unavailable', 'string', 0, 'The maximum number of pods that may be unavailable simultaneously.  This can be either an integer or percentage.'), col('Allowed Disruptions', 'integer', 0, 'Calculated number of pods that may be disrupted at this time.'), col('Age')],
  (o, now) => [o.metadata.name!, o.spec?.minAvailable !== undefined ? String(o.spec.minAvailable) : 'N/A', o.spec?.maxUnavailable !== undefined ? String(o.spec.maxUnavailable) : 'N/A', int(o.status?.disruptionsAllowed), age(o, now)],
);

const leasePrinter = printer([col('Name'), col('Holder', 'string', 0, 'The holder of the lease'), col('Age')], (o, now) => [o.metadata.name!, o.spec?.holderIdentity ?? '', age(o, now)]);

const createdAt = printer([col('Name'), col('Created At', 'date', 0, 'CreationTimestamp is a timestamp representing the server time when this object was created.')], (o) => [o.metadata.name!, o.metadata.creationTimestamp ?? '']);

function bindingSubjects(o: KubeObject): [string, string, string] {
  const subjects: { kind: string; name: string; namespace?: string }[] = o.subjects ?? [];
  const users = subjects.filter((s) => s.kind === 'User').map((s) => s.name).join(', ');
  const groups = subjects.filter((s) => s.kind === 'Group').map((s) => s.name).join(', ');
  const sas = subjects.filter((s) => s.kind === 'ServiceAccount').map((s) => `${s.namespace ?? ''}/${s.name}`).join(', ');
  return [users, groups, sas];
}

const bindingPrinter = printer(
  [col('Name'), col('Role', 'string', 0, 'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.'), col('Age'), col('Users', 'string', 1, 'Users in the roleBinding'), col('Groups', 'string', 1, 'Groups in the roleBinding'), col('ServiceAccounts', 'string', 1, 'ServiceAccounts in the roleBinding')],
  (o, now) => [o.metadata.name!, `${o.roleRef?.kind}/${o.roleRef?.name}`, age(o, now), ...bindingSubjects(o)],
);

const priorityClassPrinter = printer(
  [col('Name'), col('Value', 'integer', 0, 'value represents the integer value of this priority class.'), col('Global-Default', 'boolean', 0, 'globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class.'), col('Age'), col('PreemptionPolicy', 'string', 0, 'preemptionPolicy is the Policy for preempting pods with lower priority.')],
  (o, now) => [o.metadata.name!, int(o.value), o.globalDefault ? 'true' : 'false', age(o, now), o.preemptionPolicy ?? 'PreemptLowerPriority'],
);

const runtimeClassPrinter = printer([col('Name'), col('Handler', 'string', 0, 'handler specifies the underlying runtime and configuration that the CRI implementation will use to handle pods of this class.'), col('Age')], (o, now) => [o.metadata.name!, o.handler ?? '', age(o, now)]);

const apiServicePrinter = printer([col('Name'), col('Service', 'string', 0, 'The reference to the service that hosts this API endpoint.'), col('Available', 'string', 0, 'Whether this service is available.'), col('Age')], (o, now) => {
  const svc = o.spec?.service ? `${o.spec.service.namespace}/${o.spec.service.name}` : 'Local';
  const available = (o.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Available');
  const text = available ? (available.status === 'True' ? 'True' : `${available.status} (${available.reason})`) : 'Unknown';
  return [o.metadata.name!, svc, text, age(o, now)];
});

const csrPrinter = printer(
  [col('Name'), col('Age'), col('SignerName', 'string', 0, 'Name of the signer.'), col('Requestor', 'string', 0, 'Name of the requestor'), col('RequestedDuration', 'string', 0, 'Duration requested to the signer.'), col('Condition', 'string', 0, 'Condition of the certificate signing request.')],
  (o, now) => {
    const conditions: { type: string; status?: string }[] = o.status?.conditions ?? [];
    let condition = conditions.filter((c) => c.status !== 'False').map((c) => c.type).join(',') || 'Pending';
    if (o.status?.certificate) condition += ',Issued';
    const duration = o.spec?.expirationSeconds ? humanDuration(o.spec.expirationSeconds * 1000) : '<none>';
    return [o.metadata.name!, age(o, now), o.spec?.signerName ?? '', o.spec?.username ?? '', duration, condition];
  },
);

const resourceQuotaPrinter = printer([col('Name'), col('Age'), col('Request', 'string', 0, 'Request represents a minimum amount of cpu/memory that a container may consume.'), col('Limit', 'string', 0, 'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.')], (o, now) => {
  const hard: Record<string, string> = o.status?.hard ?? o.spec?.hard ?? {};
  const used: Record<string, string> = o.status?.used ?? {};
  const requests: string[] = [];
  const limits: string[] = [];
  for (const k of Object.keys(hard).sort()) {
    const text = `${k}: ${used[k] ?? '0'}/${hard[k]}`;
    if (k.startsWith('limits.')) limits.push(text);
    else requests.push(text);
  }
  return [o.metadata.name!, age(o, now), requests.join(', '), limits.join(', ')];
});

const componentStatusPrinter = printer([col('Name'), col('Status', 'string', 0, 'Status of the component conditions'), col('Message', 'string', 0, 'Message of the component conditions'), col('Error', 'string', 0, 'Error of the component conditions')], (o) => {
  const c = (o.conditions ?? []).find((x: { type: string }) => x.type === 'Healthy');
  return [o.metadata.name!, c ? (c.status === 'True' ? 'Healthy' : 'Unhealthy') : 'Unknown', c?.message ?? '', c?.error ?? ''];
});

/** Printers by GroupKind ("Deployment.apps", "Pod"). Kinds without an entry print NAME and CREATED AT. */
export const printers: Record<string, Printer> = {
  Pod: podPrinter,
  PodTemplate: printer([col('Name'), col('Containers', 'string', 0, 'Names of each container in the template.'), col('Images', 'string', 0, 'Images referenced by each container in the template.'), col('Pod Labels', 'string', 0, 'The labels for the pod template.')], (o) => [o.metadata.name!, ...containersAndImages(o.template?.spec), formatLabels(o.template?.metadata?.labels)]),
  ReplicationController: replicationControllerPrinter,
  Service: servicePrinter,
  Endpoints: endpointsPrinter,
  Node: nodePrinter,
  Namespace: namespacePrinter,
  Event: eventPrinter,
  'Event.events.k8s.io': eventPrinter,
  ConfigMap: configMapPrinter,
  Secret: secretPrinter,
  ServiceAccount: serviceAccountPrinter,
  PersistentVolume: pvPrinter,
  PersistentVolumeClaim: pvcPrinter,
  ResourceQuota: resourceQuotaPrinter,
  LimitRange: createdAt,
  ComponentStatus: componentStatusPrinter,
  'Deployment.apps': deploymentPrinter,
  'ReplicaSet.apps': replicaSetPrinter,
  'DaemonSet.apps': daemonSetPrinter,
  'StatefulSet.apps': statefulSetPrinter,
  'ControllerRevision.apps': controllerRevisionPrinter,
  'Job.batch': jobPrinter,
  'CronJob.batch': cronJobPrinter,
  'HorizontalPodAutoscaler.autoscaling': hpaPrinter,
  'PodDisruptionBudget.policy': pdbPrinter,
  'Ingress.networking.k8s.io': ingressPrinter,
  'IngressClass.networking.k8s.io': ingressClassPrinter,
  'NetworkPolicy.networking.k8s.io': networkPolicyPrinter,
  'EndpointSlice.discovery.k8s.io': endpointSlicePrinter,
  'Lease.coordination.k8s.io': leasePrinter,
  'Role.rbac.authorization.k8s.io': createdAt,
  'ClusterRole.rbac.authorization.k8s.io': createdAt,
  'RoleBinding.rbac.authorization.k8s.io': bindingPrinter,
  'ClusterRoleBinding.rbac.authorization.k8s.io': bindingPrinter,
  'StorageClass.storage.k8s.io': storageClassPrinter,
  'PriorityClass.scheduling.k8s.io': priorityClassPrinter,
  'RuntimeClass.node.k8s.io': runtimeClassPrinter,
  'APIService.apiregistration.k8s.io': apiServicePrinter,
  'CertificateSigningRequest.certificates.k8s.io': csrPrinter,
};

export { serviceExternalIp };
