// Kubernetes audit logging: the policy decides per request how much is recorded; the auditor
// turns each audited request into audit.k8s.io/v1 Events at its stages and hands them to a
// sink (the JSON-lines log backend). Wired into the request pipeline through ApiHandler's
// `audit` dependency, so HTTP and in-process (controller) requests are audited alike.
import YAML from 'yaml';
import type { UserInfo } from '../admission.js';
import type { ApiRequest, ApiResponse } from '../handler.js';
import type { RequestInfo } from '../request-info.js';
import { auditUser, formatMicroTime, responseStatus, withoutManagedFields, type AuditEvent, type AuditObjectReference, type AuditResponseStatus } from './event.js';
import { AuditLogBackend } from './log-backend.js';
import { levelAtLeast, loadPolicyFile, PolicyRuleEvaluator, type AuditPolicy, type AuditStage, type RequestAuditConfig } from './policy.js';

export * from './event.js';
export * from './policy.js';
export { AuditLogBackend, type AuditLogOptions } from './log-backend.js';

/** Where events go. `write` must not block the request: backends buffer. */
export interface AuditSink {
  write(event: AuditEvent): void;
  close(): Promise<void>;
}

export interface AuditorOptions {
  policy: AuditPolicy;
  sink: AuditSink;
  /** Microseconds since the epoch; real time by default. */
  now?: () => number;
}

/** One audited request, from RequestReceived to ResponseComplete (or Panic). */
export interface RequestAudit {
  /** The authorizer's decision: annotations authorization.k8s.io/decision and /reason. */
  authorized(decision: { allowed: boolean; reason: string }): void;
  impersonated(user: UserInfo): void;
  /**
   * Records the response. For watches and connections this is ResponseStarted, and the returned
   * response reports ResponseComplete when the stream or connection ends.
   */
  respond(response: ApiResponse): ApiResponse;
  /** A 500 from a thrown error: the Panic stage instead of ResponseComplete. */
  panic(error: unknown): void;
}

export interface Auditor {
  /** Undefined when the policy does not record this request (level None): nothing more is done for it. */
  begin(request: ApiRequest, info: RequestInfo, auditID: string): RequestAudit | undefined;
  close(): Promise<void>;
}

const realTimeMicros = () => (performance.timeOrigin + performance.now()) * 1000;

export function createAuditor(options: AuditorOptions): Auditor {
  const evaluator = new PolicyRuleEvaluator(options.policy);
  const now = options.now ?? realTimeMicros;
  return {
    begin(request, info, auditID) {
      const config = evaluator.evaluate({
        username: request.user.username,
        groups: request.user.groups ?? [],
        verb: info.verb,
        resourceRequest: info.isResourceRequest,
        apiGroup: info.group,
        resource: info.resource,
        subresource: info.subresource,
        namespace: info.namespace,
        name: info.name,
        path: info.path,
      });
      if (config.level === 'None') return undefined;
      const audit = new AuditedRequest(config, request, info, auditID, now, options.sink);
      audit.emit('RequestReceived');
      return audit;
    },
    close: () => options.sink.close(),
  };
}

class AuditedRequest implements RequestAudit {
  private readonly received: string;
  private readonly annotations: Record<string, string> = {};
  private impersonatedUser?: UserInfo;
  private status?: AuditResponseStatus;
  private requestObject?: unknown;
  private responseObject?: unknown;
  private readonly objectRef?: AuditObjectReference;

  constructor(
    private readonly config: RequestAuditConfig,
    private readonly request: ApiRequest,
    private readonly info: RequestInfo,
    private readonly auditID: string,
    private readonly now: () => number,
    private readonly sink: AuditSink,
  ) {
    this.received = formatMicroTime(now());
    if (info.isResourceRequest) {
      const ref: AuditObjectReference = { resource: info.resource };
      if (info.namespace) ref.namespace = info.namespace;
      if (info.name) ref.name = info.name;
      if (info.group) ref.apiGroup = info.group;
      ref.apiVersion = info.version;
      if (info.subresource) ref.subresource = info.subresource;
      this.objectRef = ref;
    }
  }

  authorized(decision: { allowed: boolean; reason: string }): void {
    this.annotations['authorization.k8s.io/decision'] = decision.allowed ? 'allow' : 'forbid';
    if (decision.reason) this.annotations['authorization.k8s.io/reason'] = decision.reason;
  }

  impersonated(user: UserInfo): void {
    this.impersonatedUser = user;
  }

  respond(response: ApiResponse): ApiResponse {
    if (levelAtLeast(this.config.level, 'Request')) this.requestObject = this.decodeRequestBody();
    if (response.stream) {
      const stream = response.stream;
      return {
        ...response,
        stream: async (sink) => {
          this.status = { metadata: {}, code: response.status };
          this.emit('ResponseStarted');
          const complete = once(() => this.emit('ResponseComplete'));
          const stop = await stream({ send: (event) => sink.send(event), close: () => (complete(), sink.close()) });
          return () => {
            complete();
            stop();
          };
        },
      };
    }
    if (response.connect) {
      // Upgraded connections (exec, attach, port-forward) answer 101 Switching Protocols.
      this.status = { metadata: {}, code: this.request.headers['upgrade'] ? 101 : 200 };
      this.emit('ResponseStarted');
      const previous = response.onClose;
      return { ...response, onClose: once(() => (previous?.(), this.emit('ResponseComplete'))) };
    }
    this.status = responseStatus(response.status, response.body);
    const body = response.body;
    const isObject = body !== null && typeof body === 'object' && !Buffer.isBuffer(body);
    if (isObject && this.objectRef && this.info.verb === 'create' && !this.objectRef.name && response.status < 300) {
      // A create names its object in the body, not the path (generateName: only the response knows).
      const name = (body as { metadata?: { name?: string } }).metadata?.name;
      if (name) this.objectRef.name = name;
    }
    if (isObject && this.config.level === 'RequestResponse') this.responseObject = body;
    this.emit('ResponseComplete');
    return response;
  }

  panic(error: unknown): void {
    this.status = { metadata: {}, status: 'Failure', reason: 'InternalError', message: `APIServer panic'd: ${(error as Error)?.message ?? String(error)}`, code: 500 };
    this.emit('Panic');
  }

  emit(stage: AuditStage): void {
    if (this.config.omitStages.includes(stage)) return;
    const user = this.request.user;
    // Timestamps are set last so the fields come out in Kubernetes' order.
    const event = {
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: this.config.level,
      auditID: this.auditID,
      stage,
      requestURI: requestURI(this.request),
      verb: this.info.verb,
      user: auditUser(user),
    } as AuditEvent;
    if (this.impersonatedUser) event.impersonatedUser = auditUser(this.impersonatedUser);
    const sourceIPs = sourceIPsOf(this.request);
    if (sourceIPs.length) event.sourceIPs = sourceIPs;
    const userAgent = this.request.headers['user-agent'];
    if (userAgent) event.userAgent = userAgent;
    if (this.objectRef) event.objectRef = { ...this.objectRef };
    if (stage !== 'RequestReceived') {
      if (this.status) event.responseStatus = this.status;
      if (this.requestObject !== undefined) event.requestObject = this.strip(this.requestObject);
      if (this.responseObject !== undefined && stage === 'ResponseComplete') event.responseObject = this.strip(this.responseObject);
    }
    event.requestReceivedTimestamp = this.received;
    event.stageTimestamp = stage === 'RequestReceived' ? this.received : formatMicroTime(this.now());
    if (stage !== 'RequestReceived' && Object.keys(this.annotations).length) event.annotations = { ...this.annotations };
    this.sink.write(event);
  }

  private strip(value: unknown): unknown {
    return this.config.omitManagedFields ? withoutManagedFields(value) : value;
  }

  /** The request body as the client sent it (a patch is logged as the patch), when it decodes. */
  private decodeRequestBody(): unknown {
    const body = this.request.body;
    if (body === undefined || body === null) return undefined;
    if (!Buffer.isBuffer(body)) return body;
    if (body.length === 0) return undefined;
    const contentType = this.request.headers['content-type'] ?? 'application/json';
    try {
      return contentType.includes('yaml') ? YAML.parse(body.toString('utf8')) : JSON.parse(body.toString('utf8'));
    } catch {
      // Undecodable bodies (protobuf, garbage) were refused by the handler; there is no object to record.
      return undefined;
    }
  }
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}

function requestURI(request: ApiRequest): string {
  const query = request.query.toString();
  return query ? `${request.path}?${query}` : request.path;
}

/** Like Kubernetes: X-Forwarded-For entries, then X-Real-Ip, then the connection's peer. */
function sourceIPsOf(request: ApiRequest): string[] {
  const ips: string[] = [];
  const forwarded = request.headers['x-forwarded-for'];
  if (forwarded) for (const ip of forwarded.split(',')) if (ip.trim()) ips.push(ip.trim());
  const realIP = request.headers['x-real-ip']?.trim();
  if (realIP && !ips.includes(realIP)) ips.push(realIP);
  const remote = request.remoteAddress?.replace(/^::ffff:/, '');
  if (remote && !ips.includes(remote)) ips.push(remote);
  return ips;
}

/** kube-apiserver's --audit-* flags that navarch supports. */
export interface AuditFlags {
  policyFile?: string;
  logPath?: string;
  logMaxAgeDays?: number;
  logMaxBackups?: number;
  logMaxSizeMB?: number;
}

/**
 * The auditor `navarch server` runs, or undefined when auditing is off: as in Kubernetes,
 * no policy file means no auditing, and a policy without a backend has nowhere to write.
 * Throws AuditPolicyError (naming the file and fields) for an invalid policy.
 */
export function auditorFromFlags(flags: AuditFlags, warn: (message: string) => void): Auditor | undefined {
  if (!flags.policyFile) return undefined;
  const policy = loadPolicyFile(flags.policyFile);
  if (!flags.logPath) {
    warn('--audit-policy-file is set but --audit-log-path is not: no audit backend, audit events are not recorded');
    return undefined;
  }
  const sink = new AuditLogBackend({ path: flags.logPath, maxAgeDays: flags.logMaxAgeDays, maxBackups: flags.logMaxBackups, maxSizeMB: flags.logMaxSizeMB });
  return createAuditor({ policy, sink });
}
