// A client Transport that calls the API server's handler directly, for components inside
// the all-in-one process. Requests still pass through authorization, admission, defaulting
// and validation — only the network hop is skipped. Each component gets its own identity.
import type { Transport, TransportRequest, TransportResponse, WatchEvent, WatchHandle, WatchRequest } from '../client/transport.js';
import { ApiError } from '../client/errors.js';
import type { UserInfo } from './admission.js';
import type { ApiHandler } from './handler.js';

export function inProcessTransport(handler: ApiHandler, user: UserInfo, userAgent = 'navarch'): Transport {
  const query = (q?: Record<string, string>) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(q ?? {})) if (v !== undefined && v !== '') params.set(k, v);
    return params;
  };
  return {
    async request(req: TransportRequest): Promise<TransportResponse> {
      const headers: Record<string, string | undefined> = { 'user-agent': userAgent, accept: 'application/json' };
      for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
      if (req.contentType) headers['content-type'] = req.contentType;
      let body: unknown = req.body;
      // Bodies are deep-copied so the caller's object never aliases stored state.
      if (typeof body === 'string') body = Buffer.from(body);
      else if (body !== undefined && !Buffer.isBuffer(body)) body = Buffer.from(JSON.stringify(body));
      if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
      const response = await handler.handle({ method: req.method, path: req.path, query: query(req.query), headers, body, user });
      if (response.stream || response.connect) throw new Error(`in-process transport: ${req.path} is a streaming endpoint`);
      const out = response.body === undefined ? undefined : typeof response.body === 'string' || Buffer.isBuffer(response.body) ? String(response.body) : JSON.parse(JSON.stringify(response.body));
      return { status: response.status, body: out, headers: response.headers };
    },

    watch(req: WatchRequest, onEvent: (ev: WatchEvent) => void, onClose: (err?: Error) => void): WatchHandle {
      let stopped = false;
      let stop: (() => void) | undefined;
      const q = query(req.query);
      q.set('watch', 'true');
      const finish = (err?: Error) => {
        if (stopped) return;
        stopped = true;
        stop?.();
        onClose(err);
      };
      handler
        .handle({ method: 'GET', path: req.path, query: q, headers: { 'user-agent': userAgent, accept: 'application/json' }, user })
        .then(async (response) => {
          if (!response.stream) {
            const status = (response.body ?? {}) as Record<string, unknown>;
            finish(new ApiError({ ...status, code: response.status }));
            return;
          }
          const s = await response.stream({
            send: (event) => {
              if (!stopped) onEvent(JSON.parse(JSON.stringify(event)) as WatchEvent);
            },
            close: () => finish(),
          });
          stop = s;
          if (stopped) s();
        })
        .catch((e) => finish(e instanceof Error ? e : new Error(String(e))));
      return {
        stop() {
          if (stopped) return;
          stopped = true;
          stop?.();
        },
      };
    },
  };
}
