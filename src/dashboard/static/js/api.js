// The dashboard's only way to the cluster: the Kubernetes REST API on the same origin, with the
// user's bearer token on every call. fetch is injected so this runs (and is tested) in Node too.

export class ApiError extends Error {
  constructor(code, status) {
    super(status?.message || `the server answered HTTP ${code}`);
    this.name = 'ApiError';
    this.code = code;
    this.reason = status?.reason ?? '';
    this.status = status;
  }
}

/** REST path of a collection or object: /api/v1/namespaces/default/pods/web-0/log. */
export function resourcePath(ref, namespace, name, subresource) {
  let path = ref.group ? `/apis/${ref.group}/${ref.version}` : `/api/${ref.version}`;
  if (ref.namespaced && namespace) path += `/namespaces/${encodeURIComponent(namespace)}`;
  path += `/${ref.resource}`;
  if (name) path += `/${encodeURIComponent(name)}`;
  if (subresource) path += `/${subresource}`;
  return path;
}

export function queryString(query) {
  const entries = Object.entries(query ?? {}).filter(([, v]) => v !== undefined && v !== null && v !== '');
  return entries.length ? `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString()}` : '';
}

async function errorFrom(response) {
  const text = await response.text().catch(() => '');
  let status;
  try {
    status = JSON.parse(text);
  } catch {
    status = { message: text.trim() || `${response.status} ${response.statusText}` };
  }
  return new ApiError(response.status, status);
}

/**
 * @param {{ fetch?: typeof fetch, token: () => string | null, onUnauthorized?: (error: ApiError) => void, base?: string }} options
 */
export function createApi(options) {
  const fetchImpl = options.fetch ?? ((...args) => globalThis.fetch(...args));
  const base = options.base ?? '';

  async function call(method, path, init = {}) {
    const headers = { accept: init.accept ?? 'application/json' };
    const token = options.token();
    if (token) headers.authorization = `Bearer ${token}`;
    let body;
    if (init.body !== undefined) {
      headers['content-type'] = init.contentType ?? 'application/json';
      body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
    }
    const response = await fetchImpl(base + path + queryString(init.query), { method, headers, body, signal: init.signal, cache: 'no-store' });
    if (!response.ok) {
      const error = await errorFrom(response);
      if (error.code === 401) options.onUnauthorized?.(error);
      throw error;
    }
    return response;
  }

  return {
    async get(path, query, signal) {
      return (await call('GET', path, { query, signal })).json();
    },
    /** Plain-text endpoints such as pods/log. */
    async text(path, query, signal) {
      return (await call('GET', path, { query, signal, accept: 'text/plain, */*' })).text();
    },
    async post(path, body) {
      return (await call('POST', path, { body })).json();
    },
    async patch(path, body, contentType = 'application/merge-patch+json') {
      return (await call('PATCH', path, { body, contentType })).json();
    },
    async delete(path, deleteOptions) {
      return (await call('DELETE', path, { body: deleteOptions })).json();
    },
    /** Opens a watch and yields the raw chunks of its newline-delimited JSON stream until it ends. */
    async *watch(path, query, signal) {
      const response = await call('GET', path, { query: { ...query, watch: 'true' }, signal });
      const reader = response.body.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          yield value;
        }
      } finally {
        reader.cancel().catch(() => {});
      }
    },
  };
}
