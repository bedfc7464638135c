// /healthz, /livez, /readyz (with ?verbose and per-check paths, as Kubernetes serves them) and /metrics.
import client from 'prom-client';
import type { ApiRequest, ApiResponse, NonResourceHandler } from './handler.js';
import type { RequestInfo } from './request-info.js';

export interface HealthCheck {
  name: string;
  /** Resolves when healthy; rejects with the reason otherwise. */
  check(): Promise<void>;
}

export function healthHandler(checks: { livez: HealthCheck[]; readyz: HealthCheck[] }): NonResourceHandler {
  return async (request: ApiRequest): Promise<ApiResponse | undefined> => {
    const match = /^\/(healthz|livez|readyz)(?:\/(.+))?$/.exec(request.path);
    if (!match) return undefined;
    const kind = match[1];
    const list = kind === 'readyz' ? checks.readyz : checks.livez;
    const only = match[2];
    const selected = only ? list.filter((c) => c.name === only) : list;
    if (only && selected.length === 0 && only !== 'ping') return { status: 404, body: 'not found', contentType: 'text/plain; charset=utf-8' };
    const results = await Promise.all(
      selected.map(async (c) => {
        try {
          await c.check();
          return { name: c.name, ok: true, reason: '' };
        } catch (e) {
          return { name: c.name, ok: false, reason: (e as Error).message };
        }
      }),
    );
    const ok = results.every((r) => r.ok);
    const verbose = request.query.has('verbose');
    let text: string;
    if (verbose || !ok) {
      text = results.map((r) => (r.ok ? `[+]${r.name} ok` : `[-]${r.name} failed: reason withheld`)).join('\n') + '\n';
      text += ok ? `${kind} check passed\n` : `${kind} check failed\n`;
    } else {
      text = 'ok';
    }
    if (!ok) console.error(JSON.stringify({ component: 'apiserver', level: 'warn', msg: `${kind} failing`, checks: results.filter((r) => !r.ok) }));
    return { status: ok ? 200 : 500, body: text, contentType: 'text/plain; charset=utf-8' };
  };
}

export class ApiMetrics {
  readonly registry = new client.Registry();
  private readonly requests: client.Counter<string>;
  private readonly latency: client.Histogram<string>;
  /** Label sets repeat (verb × resource × code): resolving a series once saves hashing labels per request. */
  private readonly series = new Map<string, { requests: ReturnType<client.Counter<string>['labels']>; latency: ReturnType<client.Histogram<string>['labels']> }>();

  constructor(gauges: { name: string; help: string; collect: () => Promise<number> | number }[] = []) {
    this.requests = new client.Counter({
      name: 'apiserver_request_total',
      help: 'Counter of apiserver requests broken out for each verb, group, version, resource and HTTP response code.',
      labelNames: ['verb', 'group', 'version', 'resource', 'subresource', 'code'],
      registers: [this.registry],
    });
    this.latency = new client.Histogram({
      name: 'apiserver_request_duration_seconds',
      help: 'Response latency distribution in seconds for each verb, group, version and resource.',
      labelNames: ['verb', 'group', 'version', 'resource', 'subresource'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [this.registry],
    });
    for (const g of gauges) {
      new client.Gauge({
        name: g.name,
        help: g.help,
        registers: [this.registry],
        async collect() {
          this.set(await g.collect());
        },
      });
    }
    client.collectDefaultMetrics({ register: this.registry });
  }

  observe(info: RequestInfo, status: number, seconds: number): void {
    if (!info.isResourceRequest) return;
    const key = `${info.verb}\0${info.group}\0${info.version}\0${info.resource}\0${info.subresource}\0${status}`;
    let series = this.series.get(key);
    if (!series) {
      const labels = { verb: info.verb.toUpperCase(), group: info.group, version: info.version, resource: info.resource, subresource: info.subresource };
      series = { requests: this.requests.labels({ ...labels, code: String(status) }), latency: this.latency.labels(labels) };
      this.series.set(key, series);
    }
    series.requests.inc();
    if (info.verb !== 'watch') series.latency.observe(seconds);
  }

  handler(): NonResourceHandler {
    return async (request) => {
      if (request.path !== '/metrics') return undefined;
      return { status: 200, body: await this.registry.metrics(), contentType: this.registry.contentType };
    };
  }
}
