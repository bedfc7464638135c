// The pages. Each view is a function of a context (live collections, the clock, actions) that
// returns DOM; the app calls it again whenever a watched collection changes.
import { h, table, badge, link } from './dom.js';
import { age, formatBytes, formatCpu } from './format.js';
import { resourcePath } from './api.js';
import { resources, resourceKeyOfKind } from './collections.js';
import {
  podStatus, statusTone, nodeStatus, nodeRoles, nodeInternalIP, deploymentColumns, replicaSetColumns,
  statefulSetColumns, daemonSetColumns, jobColumns, cronJobColumns, servicePorts, serviceExternalIP,
  containerState, podPhaseCounts, sortEventsNewestFirst, eventTime,
} from './status.js';
import { toYaml } from './yaml.js';

const enc = encodeURIComponent;
export const objectHref = (key, namespace, name) => `#/object/${key}/${enc(namespace || '_')}/${enc(name)}`;
export const podHref = (namespace, name) => `#/pod/${enc(namespace)}/${enc(name)}`;

/** A titled block that shows loading and permission problems of the collections it draws from. */
function section(title, collections, content, extra) {
  const failed = collections.find((c) => c.state === 'failed');
  let body;
  if (failed) body = h('p', { class: 'problem' }, failed.error?.message ?? 'cannot load');
  else if (collections.some((c) => !c.synced)) body = h('p', { class: 'empty' }, 'Loading…');
  else body = content();
  const count = collections.length === 1 && collections[0].synced ? h('span', { class: 'count' }, collections[0].items.length) : null;
  return h('section', { class: 'panel' }, h('header', null, h('h2', null, title, count), extra), body);
}

const nameColumn = (key, withNamespace) => [
  ...(withNamespace ? [{ title: 'Namespace', cell: (o) => o.metadata.namespace, class: 'muted' }] : []),
  { title: 'Name', cell: (o) => link(key === 'pods' ? podHref(o.metadata.namespace, o.metadata.name) : objectHref(key, o.metadata.namespace, o.metadata.name), o.metadata.name, { class: 'name' }) },
];
const ageColumn = (ctx) => ({ title: 'Age', cell: (o) => age(o.metadata.creationTimestamp, ctx.now), class: 'num' });

function actionsColumn(ctx, key) {
  return {
    title: '',
    class: 'actions',
    cell: (o) => [
      resources[key].scalable ? scaleButtons(ctx, key, o) : null,
      link(objectHref(key, o.metadata.namespace, o.metadata.name), 'YAML', { class: 'button ghost small' }),
      h('button', { class: 'ghost small danger', title: `Delete ${resources[key].kind.toLowerCase()} ${o.metadata.name}`, onclick: () => ctx.actions.delete(key, o) }, 'Delete'),
    ],
  };
}

function scaleButtons(ctx, key, o) {
  const replicas = o.spec?.replicas ?? 1;
  return h(
    'span',
    { class: 'scale' },
    h('button', { class: 'ghost small', title: 'Scale down', disabled: replicas <= 0, onclick: () => ctx.actions.scale(key, o, replicas - 1) }, '−'),
    h('span', { class: 'replicas', title: 'Desired replicas' }, replicas),
    h('button', { class: 'ghost small', title: 'Scale up', onclick: () => ctx.actions.scale(key, o, replicas + 1) }, '+'),
  );
}

function toneBadge(text) {
  return badge(text, statusTone(text));
}

export function overviewView(ctx) {
  const nodes = ctx.use(resources.nodes);
  const namespaces = ctx.use(resources.namespaces);
  const pods = ctx.use(resources.pods);
  const deployments = ctx.use(resources.deployments);
  const readyNodes = nodes.items.filter((n) => nodeStatus(n).startsWith('Ready')).length;
  const phases = podPhaseCounts(pods.items);
  const available = deployments.items.filter((d) => (d.status?.availableReplicas ?? 0) >= (d.spec?.replicas ?? 1)).length;
  const podsByNamespace = new Map();
  for (const p of pods.items) podsByNamespace.set(p.metadata.namespace, (podsByNamespace.get(p.metadata.namespace) ?? 0) + 1);
  const card = (title, value, detail, tone) => h('div', { class: `card ${tone ?? ''}` }, h('div', { class: 'card-title' }, title), h('div', { class: 'card-value' }, value), h('div', { class: 'card-detail' }, detail));

  return [
    h('div', { class: 'cards' },
      card('Nodes', nodes.synced ? `${readyNodes}/${nodes.items.length}` : '…', 'ready', nodes.synced && readyNodes < nodes.items.length ? 'warn' : 'ok'),
      card('Pods', pods.synced ? pods.items.length : '…', h('span', { class: 'phases' }, Object.entries(phases).filter(([, n]) => n > 0).map(([phase, n]) => badge(`${n} ${phase}`, statusTone(phase === 'Succeeded' ? 'Completed' : phase)))), phases.Failed > 0 ? 'error' : 'ok'),
      card('Deployments', deployments.synced ? `${available}/${deployments.items.length}` : '…', 'available', available < deployments.items.length ? 'warn' : 'ok'),
      card('Namespaces', namespaces.synced ? namespaces.items.length : '…', 'in the cluster'),
    ),
    section('Nodes', [nodes], () =>
      table(
        [
          { title: 'Name', cell: (n) => link(objectHref('nodes', '', n.metadata.name), n.metadata.name, { class: 'name' }) },
          { title: 'Status', cell: (n) => toneBadge(nodeStatus(n)) },
          { title: 'Roles', cell: nodeRoles },
          { title: 'Version', cell: (n) => n.status?.nodeInfo?.kubeletVersion ?? '' },
          { title: 'Internal IP', cell: nodeInternalIP, class: 'mono' },
          { title: 'CPU', cell: (n) => `${formatCpu(n.status?.allocatable?.cpu)} / ${formatCpu(n.status?.capacity?.cpu)}`, class: 'num' },
          { title: 'Memory', cell: (n) => `${formatBytes(n.status?.allocatable?.memory)} / ${formatBytes(n.status?.capacity?.memory)}`, class: 'num' },
          { title: 'Pods', cell: (n) => pods.items.filter((p) => p.spec?.nodeName === n.metadata.name).length, class: 'num' },
          ageColumn(ctx),
        ],
        nodes.items,
        { empty: 'No nodes have registered yet.' },
      ),
    ),
    section('Namespaces', [namespaces], () =>
      table(
        [
          { title: 'Name', cell: (n) => link(`#/workloads/${enc(n.metadata.name)}`, n.metadata.name, { class: 'name' }) },
          { title: 'Status', cell: (n) => toneBadge(n.status?.phase ?? 'Active') },
          { title: 'Pods', cell: (n) => podsByNamespace.get(n.metadata.name) ?? 0, class: 'num' },
          ageColumn(ctx),
        ],
        namespaces.items,
      ),
    ),
  ];
}

export function workloadsView(ctx) {
  const ns = ctx.namespace;
  const all = !ns;
  const get = (key) => ctx.use(resources[key], ns);
  const deployments = get('deployments');
  const replicasets = get('replicasets');
  const statefulsets = get('statefulsets');
  const daemonsets = get('daemonsets');
  const jobs = get('jobs');
  const cronjobs = get('cronjobs');
  const pods = get('pods');
  const num = (title, f) => ({ title, cell: f, class: 'num' });
  return [
    section('Deployments', [deployments], () =>
      table([...nameColumn('deployments', all), num('Ready', (d) => deploymentColumns(d).ready), num('Up-to-date', (d) => deploymentColumns(d).upToDate), num('Available', (d) => deploymentColumns(d).available), ageColumn(ctx), actionsColumn(ctx, 'deployments')], deployments.items, { empty: 'No deployments.' }),
    ),
    section('Pods', [pods], () =>
      table(
        [
          ...nameColumn('pods', all),
          num('Ready', (p) => podStatus(p).ready),
          { title: 'Status', cell: (p) => toneBadge(podStatus(p).status) },
          num('Restarts', (p) => podStatus(p).restarts),
          ageColumn(ctx),
          { title: 'IP', cell: (p) => p.status?.podIP ?? '<none>', class: 'mono' },
          { title: 'Node', cell: (p) => p.spec?.nodeName ?? '<none>' },
          actionsColumn(ctx, 'pods'),
        ],
        pods.items,
        { empty: 'No pods.' },
      ),
    ),
    section('ReplicaSets', [replicasets], () =>
      table([...nameColumn('replicasets', all), num('Desired', (r) => replicaSetColumns(r).desired), num('Current', (r) => replicaSetColumns(r).current), num('Ready', (r) => replicaSetColumns(r).ready), ageColumn(ctx), actionsColumn(ctx, 'replicasets')], replicasets.items, { empty: 'No replica sets.' }),
    ),
    section('StatefulSets', [statefulsets], () =>
      table([...nameColumn('statefulsets', all), num('Ready', (s) => statefulSetColumns(s).ready), ageColumn(ctx), actionsColumn(ctx, 'statefulsets')], statefulsets.items, { empty: 'No stateful sets.' }),
    ),
    section('DaemonSets', [daemonsets], () =>
      table([...nameColumn('daemonsets', all), ...['desired', 'current', 'ready', 'upToDate', 'available'].map((k) => num(k === 'upToDate' ? 'Up-to-date' : k[0].toUpperCase() + k.slice(1), (d) => daemonSetColumns(d)[k])), ageColumn(ctx), actionsColumn(ctx, 'daemonsets')], daemonsets.items, { empty: 'No daemon sets.' }),
    ),
    section('Jobs', [jobs], () =>
      table([...nameColumn('jobs', all), { title: 'Status', cell: (j) => toneBadge(jobColumns(j, ctx.now).status) }, num('Completions', (j) => jobColumns(j, ctx.now).completions), num('Duration', (j) => jobColumns(j, ctx.now).duration), ageColumn(ctx), actionsColumn(ctx, 'jobs')], jobs.items, { empty: 'No jobs.' }),
    ),
    section('CronJobs', [cronjobs], () =>
      table([...nameColumn('cronjobs', all), { title: 'Schedule', cell: (c) => cronJobColumns(c).schedule, class: 'mono' }, { title: 'Suspend', cell: (c) => cronJobColumns(c).suspend }, num('Active', (c) => cronJobColumns(c).active), num('Last schedule', (c) => cronJobColumns(c, ctx.now).lastSchedule), ageColumn(ctx), actionsColumn(ctx, 'cronjobs')], cronjobs.items, { empty: 'No cron jobs.' }),
    ),
  ];
}

export function servicesView(ctx) {
  const services = ctx.use(resources.services, ctx.namespace);
  return section('Services', [services], () =>
    table(
      [
        ...nameColumn('services', !ctx.namespace),
        { title: 'Type', cell: (s) => s.spec?.type ?? 'ClusterIP' },
        { title: 'Cluster IP', cell: (s) => s.spec?.clusterIP ?? '<none>', class: 'mono' },
        { title: 'External IP', cell: serviceExternalIP, class: 'mono' },
        { title: 'Ports', cell: servicePorts, class: 'mono' },
        { title: 'Selector', cell: (s) => Object.entries(s.spec?.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || '<none>', class: 'mono muted' },
        ageColumn(ctx),
        actionsColumn(ctx, 'services'),
      ],
      services.items,
      { empty: 'No services.' },
    ),
  );
}

function involvedLink(ref) {
  if (!ref) return '';
  const key = resourceKeyOfKind(ref.kind);
  const text = `${(ref.kind ?? '').toLowerCase()}/${ref.name}`;
  if (ref.kind === 'Pod') return link(podHref(ref.namespace, ref.name), text);
  return key ? link(objectHref(key, ref.namespace, ref.name), text) : text;
}

function eventsTable(ctx, events, { withNamespace = false, withObject = true, limit = 300 } = {}) {
  const rows = sortEventsNewestFirst(events).slice(0, limit);
  return table(
    [
      { title: 'Last seen', cell: (e) => age(eventTime(e), ctx.now), class: 'num' },
      ...(withNamespace ? [{ title: 'Namespace', cell: (e) => e.metadata.namespace, class: 'muted' }] : []),
      { title: 'Type', cell: (e) => badge(e.type ?? 'Normal', e.type === 'Warning' ? 'error' : 'neutral') },
      { title: 'Reason', cell: (e) => e.reason ?? '' },
      ...(withObject ? [{ title: 'Object', cell: (e) => involvedLink(e.involvedObject) }] : []),
      { title: 'Count', cell: (e) => e.series?.count ?? e.count ?? 1, class: 'num' },
      { title: 'Message', cell: (e) => e.message ?? e.note ?? '', class: 'message' },
    ],
    rows,
    { empty: 'No events.', rowClass: (e) => (e.type === 'Warning' ? 'warning' : undefined) },
  );
}

export function eventsView(ctx) {
  const events = ctx.use(resources.events, ctx.namespace);
  return section('Events', [events], () => eventsTable(ctx, events.items, { withNamespace: !ctx.namespace }));
}

function definitionList(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter(([, v]) => v !== undefined && v !== null && v !== '').map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
}

function labelsOf(o) {
  const labels = Object.entries(o.metadata?.labels ?? {});
  return labels.length ? h('span', { class: 'labels' }, labels.map(([k, v]) => h('span', { class: 'label' }, `${k}=${v}`))) : null;
}

function ownerLinks(o) {
  const owners = o.metadata?.ownerReferences ?? [];
  if (owners.length === 0) return null;
  return owners.map((r) => {
    const key = resourceKeyOfKind(r.kind);
    return key ? link(objectHref(key, o.metadata.namespace, r.name), `${r.kind}/${r.name}`) : `${r.kind}/${r.name}`;
  });
}

export function podView(ctx, namespace, name) {
  const pods = ctx.use(resources.pods, namespace, { fieldSelector: `metadata.name=${name}` });
  const events = ctx.use(resources.events, namespace);
  const pod = pods.items.find((p) => p.metadata.name === name);
  const title = h('div', { class: 'title-row' }, h('h1', null, h('span', { class: 'kind' }, 'Pod'), name), pod ? toneBadge(podStatus(pod).status) : null, h('span', { class: 'spacer' }),
    link(objectHref('pods', namespace, name), 'YAML', { class: 'button ghost' }),
    pod ? h('button', { class: 'ghost danger', onclick: () => ctx.actions.delete('pods', pod) }, 'Delete') : null);
  if (pods.state === 'failed') return [title, h('p', { class: 'problem' }, pods.error?.message)];
  if (!pods.synced) return [title, h('p', { class: 'empty' }, 'Loading…')];
  if (!pod) return [title, h('p', { class: 'problem' }, `pods "${name}" not found in namespace "${namespace}"`)];
  const status = podStatus(pod);
  const statuses = new Map([...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].map((s) => [s.name, s]));
  const containers = [...(pod.spec?.initContainers ?? []).map((c) => ({ ...c, init: true })), ...(pod.spec?.containers ?? [])];
  const podEvents = events.items.filter((e) => e.involvedObject?.kind === 'Pod' && e.involvedObject?.name === name);
  const logs = ctx.state;
  if (!logs.container) logs.container = pod.spec?.containers?.[0]?.name;
  if (!logs.requested) ctx.actions.loadLogs(namespace, name);

  return [
    title,
    h('div', { class: 'grid' },
      h('section', { class: 'panel' }, h('header', null, h('h2', null, 'Details')),
        definitionList([
          ['Namespace', link(`#/workloads/${enc(namespace)}`, namespace)],
          ['Node', pod.spec?.nodeName ?? '<none>'],
          ['Pod IP', pod.status?.podIP ?? '<none>'],
          ['Ready', status.ready],
          ['Restarts', String(status.restarts)],
          ['QoS class', pod.status?.qosClass],
          ['Service account', pod.spec?.serviceAccountName],
          ['Created', `${age(pod.metadata.creationTimestamp, ctx.now)} ago`],
          ['Controlled by', ownerLinks(pod)],
          ['Labels', labelsOf(pod)],
          ['Message', pod.status?.message],
        ])),
      h('section', { class: 'panel' }, h('header', null, h('h2', null, 'Conditions')),
        table([
          { title: 'Type', cell: (c) => c.type },
          { title: 'Status', cell: (c) => badge(c.status, c.status === 'True' ? 'ok' : 'warn') },
          { title: 'Reason', cell: (c) => c.reason ?? '' },
          { title: 'Changed', cell: (c) => age(c.lastTransitionTime, ctx.now), class: 'num' },
        ], pod.status?.conditions ?? [], { empty: 'No conditions reported yet.' })),
    ),
    h('section', { class: 'panel' }, h('header', null, h('h2', null, 'Containers', h('span', { class: 'count' }, containers.length))),
      h('div', { class: 'containers' }, containers.map((c) => {
        const s = statuses.get(c.name);
        const state = containerState(s, ctx.now);
        return h('div', { class: 'container' },
          h('div', { class: 'container-head' }, h('strong', null, c.name), c.init ? badge(c.restartPolicy === 'Always' ? 'sidecar' : 'init', 'neutral') : null, badge(state.text, state.tone)),
          definitionList([
            ['Image', h('span', { class: 'mono' }, c.image)],
            ['Command', c.command || c.args ? h('span', { class: 'mono' }, [...(c.command ?? []), ...(c.args ?? [])].join(' ')) : null],
            ['Ports', (c.ports ?? []).map((p) => `${p.containerPort}/${p.protocol ?? 'TCP'}${p.name ? ` (${p.name})` : ''}`).join(', ')],
            ['Restarts', s ? String(s.restartCount ?? 0) : null],
            ['Requests', c.resources?.requests ? Object.entries(c.resources.requests).map(([k, v]) => `${k}=${v}`).join(', ') : null],
            ['Limits', c.resources?.limits ? Object.entries(c.resources.limits).map(([k, v]) => `${k}=${v}`).join(', ') : null],
            ['Message', state.message],
          ]));
      }))),
    h('section', { class: 'panel' },
      h('header', null, h('h2', null, 'Logs'),
        h('select', { onchange: (e) => ctx.actions.loadLogs(namespace, name, e.target.value), 'aria-label': 'Container' }, containers.map((c) => h('option', { value: c.name, selected: c.name === logs.container }, c.name))),
        h('button', { class: 'ghost small', onclick: () => ctx.actions.loadLogs(namespace, name, logs.container) }, 'Refresh'),
        h('span', { class: 'muted small' }, 'last 200 lines')),
      logs.error ? h('p', { class: 'problem' }, logs.error) : h('pre', { class: 'logs' }, logs.loading && !logs.text ? 'Loading…' : logs.text || '(no output)')),
    h('section', { class: 'panel' }, h('header', null, h('h2', null, 'Events', h('span', { class: 'count' }, podEvents.length))), eventsTable(ctx, podEvents, { withObject: false })),
  ];
}

export function objectView(ctx, key, namespace, name) {
  const ref = resources[key];
  if (!ref) return h('p', { class: 'problem' }, `unknown resource "${key}"`);
  const list = ctx.use(ref, namespace, { fieldSelector: `metadata.name=${name}` });
  const object = list.items.find((o) => o.metadata.name === name && (!ref.namespaced || o.metadata.namespace === namespace));
  const view = ctx.state;
  view.format ??= 'yaml';
  view.managedFields ??= false;
  let shown = object;
  if (object && !view.managedFields && object.metadata?.managedFields) shown = { ...object, metadata: { ...object.metadata, managedFields: undefined } };
  if (shown) shown = JSON.parse(JSON.stringify(shown));
  const toggle = (label, active, onclick) => h('button', { class: `ghost small ${active ? 'active' : ''}`, onclick }, label);
  return [
    h('div', { class: 'title-row' },
      h('h1', null, h('span', { class: 'kind' }, ref.kind), name),
      ref.namespaced ? h('span', { class: 'muted' }, `in ${namespace}`) : null,
      h('span', { class: 'spacer' }),
      key === 'pods' ? link(podHref(namespace, name), 'Pod details', { class: 'button ghost' }) : null,
      object ? h('button', { class: 'ghost danger', onclick: () => ctx.actions.delete(key, object) }, 'Delete') : null),
    h('section', { class: 'panel' },
      h('header', null,
        h('span', { class: 'segmented' }, toggle('YAML', view.format === 'yaml', () => ctx.actions.setView({ format: 'yaml' })), toggle('JSON', view.format === 'json', () => ctx.actions.setView({ format: 'json' }))),
        h('label', { class: 'check' }, h('input', { type: 'checkbox', checked: view.managedFields, onchange: (e) => ctx.actions.setView({ managedFields: e.target.checked }) }), 'managedFields'),
        h('span', { class: 'spacer' }),
        h('span', { class: 'muted small' }, list.state === 'live' ? 'live' : list.state)),
      list.state === 'failed' ? h('p', { class: 'problem' }, list.error?.message)
        : !list.synced ? h('p', { class: 'empty' }, 'Loading…')
        : !object ? h('p', { class: 'problem' }, `${ref.resource} "${name}" not found`)
        : h('pre', { class: 'code' }, view.format === 'yaml' ? toYaml(shown) : JSON.stringify(shown, null, 2))),
  ];
}

export function loginView(ctx) {
  const textarea = h('textarea', { id: 'token', rows: 5, placeholder: 'eyJhbGciOi…', autocomplete: 'off', spellcheck: 'false', required: true });
  return h('div', { class: 'login' },
    h('form', { class: 'panel login-box', onsubmit: (e) => { e.preventDefault(); ctx.actions.login(textarea.value.trim()); } },
      h('h1', null, 'Sign in to navarch'),
      h('p', null, 'Paste a bearer token. It stays in this browser tab only (session storage) and is sent to this API server with each request.'),
      ctx.loginError ? h('p', { class: 'problem' }, ctx.loginError) : null,
      h('label', { for: 'token' }, 'Token'),
      textarea,
      h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
      h('details', null, h('summary', null, 'How do I get a token?'),
        h('p', null, 'On a machine with the cluster\'s kubeconfig, run:'),
        h('pre', { class: 'code' }, 'navarch dashboard'),
        h('p', null, 'It creates the kube-system/navarch-dashboard-admin service account (bound to cluster-admin) and prints a short-lived token. Any other service account token works too, with that account\'s permissions:'),
        h('pre', { class: 'code' }, 'kubectl create token <service-account> -n <namespace>')),
    ));
}

export { resourcePath };
