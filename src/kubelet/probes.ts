// Liveness, readiness and startup probes, one worker per (container instance, probe kind),
// ticking on the injected clock with Kubernetes' timing fields. Results feed the pod's
// status (ready, started) and the sync loop (liveness/startup failure restarts).
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Clock, TimerHandle } from '../client/clock.js';
import type { RuntimeService } from '../runtime/types.js';
import { grpcProbe } from './grpc-probe.js';

export type ProbeKind = 'liveness' | 'readiness' | 'startup';
export type ProbeResult = 'success' | 'failure';

export interface ProbeTarget {
  podUid: string;
  containerName: string;
  containerId: string;
  /** Where httpGet/tcpSocket go when the probe names no host; undefined when the pod network is not reachable from here. */
  podIP?: string;
  container: any;
}

export interface ProbeOutcome { result: ProbeResult; output: string }

/** Runs one probe once. Exported for tests and for lifecycle hooks (same handlers). */
export async function runHandler(runtime: RuntimeService, target: ProbeTarget, handler: any, timeoutSeconds: number): Promise<ProbeOutcome> {
  if (handler.exec) {
    try {
      const r = await runtime.execSync(target.containerId, handler.exec.command ?? [], timeoutSeconds);
      const output = (r.stdout.toString() + r.stderr.toString()).trim();
      return r.exitCode === 0 ? { result: 'success', output } : { result: 'failure', output: output || `command ${JSON.stringify(handler.exec.command)} exited with ${r.exitCode}` };
    } catch (err) {
      return { result: 'failure', output: (err as Error).message };
    }
  }
  const port = handler.httpGet?.port ?? handler.tcpSocket?.port ?? handler.grpc?.port;
  const resolvedPort = typeof port === 'number' ? port : Number.isFinite(Number(port)) ? Number(port) : (target.container.ports ?? []).find((p: any) => p.name === port)?.containerPort;
  if (!resolvedPort) return { result: 'failure', output: `port ${port} not found in container ${target.containerName}` };
  const host = handler.httpGet?.host ?? handler.tcpSocket?.host ?? target.podIP;
  if (!host) return { result: 'failure', output: 'the pod network is not reachable from this node' };
  if (handler.tcpSocket) return tcpProbe(host, resolvedPort, timeoutSeconds);
  if (handler.grpc) return grpcProbe(host, resolvedPort, handler.grpc.service ?? '', timeoutSeconds);
  if (handler.httpGet) return httpProbe(host, resolvedPort, handler.httpGet, timeoutSeconds);
  return { result: 'failure', output: 'probe has no handler' };
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function tcpProbe(host: string, port: number, timeoutSeconds: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => { socket.destroy(); resolve({ result: 'failure', output: `dial tcp ${hostPort(host, port)}: i/o timeout` }); }, timeoutSeconds * 1000);
    socket.once('connect', () => { clearTimeout(timer); socket.destroy(); resolve({ result: 'success', output: '' }); });
    socket.once('error', (err: any) => {
      clearTimeout(timer);
      resolve({ result: 'failure', output: `dial tcp ${hostPort(host, port)}: connect: ${err.code === 'ECONNREFUSED' ? 'connection refused' : err.message}` });
    });
  });
}

function httpProbe(host: string, port: number, spec: any, timeoutSeconds: number): Promise<ProbeOutcome> {
  const scheme = (spec.scheme ?? 'HTTP').toLowerCase();
  const path = spec.path ?? '/';
  const url = `${scheme}://${hostPort(host, port)}${path.startsWith('/') ? path : '/' + path}`;
  const headers: Record<string, string> = { 'User-Agent': 'kube-probe/1.31', Accept: '*/*' };
  for (const h of spec.httpHeaders ?? []) headers[h.name] = h.value;
  return new Promise((resolve) => {
    const lib = scheme === 'https' ? https : http;
    const req = lib.get(url, { headers, rejectUnauthorized: false, timeout: timeoutSeconds * 1000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => { if (chunks.length < 10) chunks.push(c); });
      res.on('end', () => {
        const code = res.statusCode ?? 0;
        const body = Buffer.concat(chunks).toString('utf8').slice(0, 10240);
        if (code >= 200 && code < 400) resolve({ result: 'success', output: body });
        else resolve({ result: 'failure', output: `HTTP probe failed with statuscode: ${code}` });
      });
    });
    req.on('timeout', () => { req.destroy(); resolve({ result: 'failure', output: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` }); });
    req.on('error', (err: any) => resolve({ result: 'failure', output: `Get "${url}": dial tcp ${hostPort(host, port)}: connect: ${err.code === 'ECONNREFUSED' ? 'connection refused' : err.message}` }));
  });
}

interface Worker {
  kind: ProbeKind;
  target: ProbeTarget;
  spec: any;
  result: ProbeResult | undefined;
  successes: number;
  failures: number;
  timer?: TimerHandle;
  stopped: boolean;
  startedAt: number;
}

export interface ProbeManagerOptions {
  runtime: RuntimeService;
  clock: Clock;
  /** A result changed: the pod should sync. */
  onChange(podUid: string): void;
  /** A probe failed (for the Unhealthy event). */
  onFailure(target: ProbeTarget, kind: ProbeKind, output: string): void;
}

const kindLabel: Record<ProbeKind, string> = { liveness: 'Liveness', readiness: 'Readiness', startup: 'Startup' };
export function probeKindLabel(kind: ProbeKind): string { return kindLabel[kind]; }

export class ProbeManager {
  /** key: containerId/kind */
  private readonly workers = new Map<string, Worker>();

  constructor(private readonly options: ProbeManagerOptions) {}

  /** Starts the workers of a newly running container instance (idempotent). */
  add(target: ProbeTarget): void {
    for (const kind of ['startup', 'liveness', 'readiness'] as ProbeKind[]) {
      const spec = target.container[`${kind}Probe`];
      const key = `${target.containerId}/${kind}`;
      if (!spec || this.workers.has(key)) continue;
      const worker: Worker = { kind, target, spec, result: undefined, successes: 0, failures: 0, stopped: false, startedAt: this.options.clock.now() };
      this.workers.set(key, worker);
      this.schedule(worker, (spec.initialDelaySeconds ?? 0) * 1000);
    }
  }

  private schedule(worker: Worker, delayMs: number): void {
    if (worker.stopped) return;
    worker.timer = this.options.clock.setTimeout(() => void this.tick(worker), delayMs);
  }

  private async tick(worker: Worker): Promise<void> {
    if (worker.stopped) return;
    const period = (worker.spec.periodSeconds ?? 10) * 1000;
    // Liveness and readiness wait until the startup probe has succeeded.
    if (worker.kind !== 'startup' && !this.startupDone(worker.target)) {
      this.schedule(worker, period);
      return;
    }
    // Once started, a startup probe never runs again.
    if (worker.kind === 'startup' && worker.result === 'success') return;
    const outcome = await runHandler(this.options.runtime, worker.target, worker.spec, worker.spec.timeoutSeconds ?? 1);
    if (worker.stopped) return;
    const successThreshold = worker.kind === 'readiness' ? worker.spec.successThreshold ?? 1 : 1;
    const failureThreshold = worker.spec.failureThreshold ?? 3;
    let changed = false;
    if (outcome.result === 'success') {
      worker.failures = 0;
      worker.successes++;
      if (worker.successes >= successThreshold && worker.result !== 'success') { worker.result = 'success'; changed = true; }
    } else {
      worker.successes = 0;
      worker.failures++;
      this.options.onFailure(worker.target, worker.kind, outcome.output);
      if (worker.failures >= failureThreshold && worker.result !== 'failure') { worker.result = 'failure'; changed = true; }
    }
    if (changed) this.options.onChange(worker.target.podUid);
    // A failed liveness/startup worker stops: the container will be restarted with new workers.
    if (worker.result === 'failure' && worker.kind !== 'readiness') return;
    this.schedule(worker, period);
  }

  private startupDone(target: ProbeTarget): boolean {
    const startup = this.workers.get(`${target.containerId}/startup`);
    return !startup || startup.result === 'success';
  }

  /** Whether the container has passed its startup probe (true when it has none). */
  started(containerId: string): boolean {
    const w = this.workers.get(`${containerId}/startup`);
    return !w || w.result === 'success';
  }

  /** Readiness: false until the first success; true without a readiness probe once started. */
  ready(containerId: string): boolean {
    if (!this.started(containerId)) return false;
    const w = this.workers.get(`${containerId}/readiness`);
    return !w || w.result === 'success';
  }

  /** 'liveness' | 'startup' when the container must be restarted, else undefined. */
  failed(containerId: string): 'liveness' | 'startup' | undefined {
    if (this.workers.get(`${containerId}/startup`)?.result === 'failure') return 'startup';
    if (this.workers.get(`${containerId}/liveness`)?.result === 'failure') return 'liveness';
    return undefined;
  }

  /** Stops every worker of instances not in `keep` (for the pod, or all when podUid is absent). */
  removeExcept(podUid: string, keep: Set<string>): void {
    for (const [key, worker] of this.workers) {
      if (worker.target.podUid !== podUid || keep.has(worker.target.containerId)) continue;
      this.stop(key, worker);
    }
  }

  removePod(podUid: string): void {
    this.removeExcept(podUid, new Set());
  }

  stopAll(): void {
    for (const [key, worker] of this.workers) this.stop(key, worker);
  }

  private stop(key: string, worker: Worker): void {
    worker.stopped = true;
    if (worker.timer) this.options.clock.clearTimeout(worker.timer);
    this.workers.delete(key);
  }
}
