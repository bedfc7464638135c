// The audit.k8s.io/v1 Event as kube-apiserver writes it, and the pieces that fill it in.
import type { AuditLevel, AuditStage } from './policy.js';

export interface AuditUser {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

export interface AuditObjectReference {
  resource?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  apiGroup?: string;
  apiVersion?: string;
  resourceVersion?: string;
  subresource?: string;
}

export interface AuditResponseStatus {
  metadata: Record<string, never>;
  status?: string;
  message?: string;
  reason?: string;
  details?: unknown;
  code: number;
}

export interface AuditEvent {
  kind: 'Event';
  apiVersion: 'audit.k8s.io/v1';
  level: AuditLevel;
  auditID: string;
  stage: AuditStage;
  requestURI: string;
  verb: string;
  user: AuditUser;
  impersonatedUser?: AuditUser;
  sourceIPs?: string[];
  userAgent?: string;
  objectRef?: AuditObjectReference;
  responseStatus?: AuditResponseStatus;
  requestObject?: unknown;
  responseObject?: unknown;
  requestReceivedTimestamp: string;
  stageTimestamp: string;
  annotations?: Record<string, string>;
}

/** metav1.MicroTime's wire form: RFC 3339 in UTC with exactly six fractional digits. */
export function formatMicroTime(microsecondsSinceEpoch: number): string {
  const micros = Math.floor(microsecondsSinceEpoch);
  const millis = Math.floor(micros / 1000);
  const iso = new Date(millis).toISOString(); // 2026-01-01T00:00:00.123Z
  const fraction = String(micros - millis * 1000).padStart(3, '0');
  return `${iso.slice(0, -1)}${fraction}Z`;
}

export function auditUser(user: { username: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> }): AuditUser {
  const out: AuditUser = { username: user.username };
  if (user.uid) out.uid = user.uid;
  if (user.groups?.length) out.groups = [...user.groups];
  if (user.extra && Object.keys(user.extra).length) out.extra = user.extra;
  return out;
}

/**
 * responseStatus as Kubernetes records it: only the code for an object response; the
 * bounded fields of a Status (status, message, reason, details) when the response is one.
 */
export function responseStatus(code: number, body: unknown): AuditResponseStatus {
  const status: AuditResponseStatus = { metadata: {}, code };
  const b = body as { kind?: string; status?: string; message?: string; reason?: string; details?: unknown } | undefined;
  if (b && typeof b === 'object' && !Buffer.isBuffer(b) && b.kind === 'Status') {
    if (b.status) status.status = b.status;
    if (b.message) status.message = b.message;
    if (b.reason) status.reason = b.reason;
    if (b.details) status.details = b.details;
  }
  return status;
}

/**
 * A copy without metadata.managedFields (items of a list too). Copies only the levels it
 * changes: the original may be the object about to be sent to the client or held in a cache.
 */
export function withoutManagedFields(value: unknown): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value) || Buffer.isBuffer(value)) return value;
  const o = value as { metadata?: Record<string, unknown>; items?: unknown[] };
  let out = o;
  if (o.metadata && typeof o.metadata === 'object' && 'managedFields' in o.metadata) {
    const { managedFields: _dropped, ...metadata } = o.metadata;
    out = { ...out, metadata };
  }
  if (Array.isArray(o.items)) out = { ...out, items: o.items.map(withoutManagedFields) };
  return out;
}
