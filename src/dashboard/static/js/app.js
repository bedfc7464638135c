// The dashboard shell: sign-in, hash routes, header and navigation, the render loop driven by
// live collections, and the actions that write (scale, delete). Views live in views.js.
import { createApi, resourcePath } from './api.js';
import { Collections, resources } from './collections.js';
import { h, replaceChildren } from './dom.js';
import { eventsView, loginView, objectView, overviewView, podView, servicesView, workloadsView } from './views.js';

const TOKEN_KEY = 'navarch.dashboard.token';
const NAMESPACE_KEY = 'navarch.dashboard.namespace';
const ALL = '_all';

const app = {
  token: sessionStorage.getItem(TOKEN_KEY),
  user: sessionStorage.getItem('navarch.dashboard.user') ?? '',
  namespace: sessionStorage.getItem(NAMESPACE_KEY) ?? 'default',
  loginError: '',
  routeKey: '',
  routeState: {},
  renderTimer: null,
};

const api = createApi({
  token: () => app.token,
  onUnauthorized: () => logout('Your token was rejected or has expired. Sign in again.'),
});
const collections = new Collections({ api, onChange: () => scheduleRender() });

function parseRoute() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map((p) => decodeURIComponent(p));
  const [page = 'overview', ...rest] = parts;
  return { page, rest };
}

function scheduleRender() {
  // Watches can deliver bursts of events; one render per 100 ms is plenty for a person.
  if (app.renderTimer) return;
  app.renderTimer = setTimeout(() => {
    app.renderTimer = null;
    // Replacing an open drop-down would close it under the user's pointer: wait until it is left.
    if (document.activeElement?.tagName === 'SELECT') return scheduleRender();
    render();
  }, 100);
}

function toast(message, tone = 'ok') {
  const box = document.getElementById('toasts');
  const item = h('div', { class: `toast ${tone}`, role: 'status' }, message);
  box.append(item);
  setTimeout(() => item.remove(), tone === 'error' ? 8000 : 4000);
}

function confirmDialog(title, message, confirmLabel) {
  return new Promise((resolve) => {
    const dialog = document.getElementById('confirm');
    replaceChildren(dialog,
      h('form', { method: 'dialog' },
        h('h2', null, title),
        h('p', null, message),
        h('div', { class: 'dialog-actions' },
          h('button', { value: 'cancel', class: 'ghost', autofocus: true }, 'Cancel'),
          h('button', { value: 'confirm', class: 'danger-solid' }, confirmLabel))));
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'), { once: true });
    dialog.returnValue = '';
    dialog.showModal();
  });
}

async function login(token) {
  if (!token) return;
  app.token = token;
  try {
    // /version is public, but a token that does not authenticate still gets 401 there.
    await api.get('/version');
    const review = await api.post('/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }).catch(() => null);
    app.user = review?.status?.userInfo?.username ?? '';
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem('navarch.dashboard.user', app.user);
    app.loginError = '';
    if (location.hash.startsWith('#/login') || !location.hash) location.hash = '#/overview';
    render();
  } catch (error) {
    app.token = null;
    app.loginError = error.code === 401 ? 'This token was not accepted by the API server.' : `Could not reach the API server: ${error.message}`;
    render();
  }
}

function logout(message = '') {
  app.token = null;
  app.user = '';
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem('navarch.dashboard.user');
  app.loginError = message;
  collections.stopAll();
  render();
}

const actions = {
  login,
  async scale(key, object, replicas) {
    const ref = resources[key];
    try {
      await api.patch(resourcePath(ref, object.metadata.namespace, object.metadata.name), { spec: { replicas } });
      toast(`${ref.kind} ${object.metadata.name} scaled to ${replicas}`);
    } catch (error) {
      toast(`Scaling failed: ${error.message}`, 'error');
    }
  },
  async delete(key, object) {
    const ref = resources[key];
    const where = ref.namespaced ? ` in namespace ${object.metadata.namespace}` : '';
    const ok = await confirmDialog(`Delete ${ref.kind.toLowerCase()}?`, `${ref.kind} "${object.metadata.name}"${where} will be deleted. Objects it owns are deleted too.`, 'Delete');
    if (!ok) return;
    try {
      await api.delete(resourcePath(ref, object.metadata.namespace, object.metadata.name), { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' });
      toast(`${ref.kind} ${object.metadata.name} deleted`);
    } catch (error) {
      toast(`Delete failed: ${error.message}`, 'error');
    }
  },
  async loadLogs(namespace, name, container) {
    const state = app.routeState;
    if (container) state.container = container;
    state.requested = true;
    state.loading = true;
    scheduleRender();
    try {
      state.text = await api.text(resourcePath(resources.pods, namespace, name, 'log'), { tailLines: 200, container: state.container });
      state.error = '';
    } catch (error) {
      state.error = `Logs are not available: ${error.message}`;
    }
    state.loading = false;
    scheduleRender();
  },
  setView(change) {
    Object.assign(app.routeState, change);
    render();
  },
};

function namespaceSelect() {
  const namespaces = collections.use(resources.namespaces);
  const names = namespaces.items.map((n) => n.metadata.name);
  if (app.namespace !== ALL && !names.includes(app.namespace)) names.push(app.namespace);
  return h('select', {
    class: 'namespace',
    'aria-label': 'Namespace',
    onchange: (e) => {
      app.namespace = e.target.value;
      sessionStorage.setItem(NAMESPACE_KEY, app.namespace);
      const { page } = parseRoute();
      location.hash = `#/${['workloads', 'services', 'events'].includes(page) ? page : 'workloads'}/${encodeURIComponent(app.namespace)}`;
    },
  },
  h('option', { value: ALL, selected: app.namespace === ALL }, 'All namespaces'),
  names.sort().map((n) => h('option', { value: n, selected: n === app.namespace }, n)));
}

function header(page) {
  const ns = encodeURIComponent(app.namespace);
  const tab = (id, label, href) => h('a', { href, class: page === id ? 'tab active' : 'tab' }, label);
  const state = collections.overallState();
  const stateText = { live: 'Live', syncing: 'Loading', retrying: 'Reconnecting', failed: 'Some data unavailable' }[state];
  return h('header', { class: 'topbar' },
    h('a', { class: 'brand', href: '#/overview' }, h('span', { class: 'logo', 'aria-hidden': 'true' }), 'navarch'),
    h('nav', null,
      tab('overview', 'Overview', '#/overview'),
      tab('workloads', 'Workloads', `#/workloads/${ns}`),
      tab('services', 'Services', `#/services/${ns}`),
      tab('events', 'Events', `#/events/${ns}`)),
    h('span', { class: 'spacer' }),
    namespaceSelect(),
    h('span', { class: `live ${state}`, title: stateText }, h('span', { class: 'dot' }), stateText),
    h('span', { class: 'user', title: app.user }, app.user || 'signed in'),
    h('button', { class: 'ghost small', onclick: () => logout() }, 'Sign out'));
}

function render() {
  const root = document.getElementById('app');
  if (!app.token) {
    collections.stopAll();
    replaceChildren(root, loginView({ actions, loginError: app.loginError }));
    return;
  }
  const { page, rest } = parseRoute();
  const routeKey = location.hash;
  if (routeKey !== app.routeKey) {
    app.routeKey = routeKey;
    app.routeState = {};
  }
  if (['workloads', 'services', 'events'].includes(page) && rest[0]) {
    app.namespace = rest[0];
    sessionStorage.setItem(NAMESPACE_KEY, app.namespace);
  }
  const ctx = {
    use: (ref, namespace, query) => collections.use(ref, namespace === ALL ? '' : namespace, query),
    namespace: app.namespace === ALL ? '' : app.namespace,
    now: Date.now(),
    actions,
    state: app.routeState,
  };
  collections.beginRender();
  let content;
  switch (page) {
    case 'workloads': content = workloadsView(ctx); break;
    case 'services': content = servicesView(ctx); break;
    case 'events': content = eventsView(ctx); break;
    case 'pod': content = podView(ctx, rest[0], rest[1]); break;
    case 'object': content = objectView(ctx, rest[0], rest[1] === '_' ? '' : rest[1], rest[2]); break;
    default: content = overviewView(ctx);
  }
  const top = header(page);
  collections.endRender();
  const scrollY = window.scrollY;
  replaceChildren(root, top, h('main', null, content));
  window.scrollTo(0, scrollY);
}

async function loadUser() {
  const review = await api.post('/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }).catch(() => null);
  app.user = review?.status?.userInfo?.username ?? '';
  sessionStorage.setItem('navarch.dashboard.user', app.user);
  scheduleRender();
}

window.addEventListener('hashchange', () => render());
if (app.token && !app.user) loadUser();
// Ages tick even when nothing changes.
setInterval(() => { if (app.token && !document.hidden) scheduleRender(); }, 5000);
render();
