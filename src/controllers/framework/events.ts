// An event recorder writing core/v1 Events the way client-go's recorder does: one Event per
// (involved object, type, reason, message); repeats bump `count` and `lastTimestamp` on the
// existing Event instead of creating a new one, so `kubectl describe` shows "x3 over 2m".
// Writing is fire-and-forget: a controller never fails a reconcile because an Event could not be saved.
import type { KubeObject } from '../../api/types.js';
import type { Client } from '../../client/client.js';
import type { Clock } from '../../client/clock.js';
import type { Logger } from '../../client/informer.js';
import { isNotFound } from '../../client/errors.js';
import { eventsResource } from './resources.js';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  event(object: KubeObject, type: EventType, reason: string, message: string): void;
  /** Resolves once every Event recorded so far has been written (tests and shutdown). */
  flush(): Promise<void>;
}

export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

interface Aggregate {
  name: string;
  namespace: string;
  count: number;
}

const maxRemembered = 4096;

export function createEventRecorder(options: { client: Client; component: string; clock: Clock; host?: string; logger?: Logger }): EventRecorder {
  const events = options.client.resource(eventsResource);
  const remembered = new Map<string, Aggregate>();
  const pending = new Set<Promise<void>>();
  let sequence = 0;

  async function write(object: KubeObject, type: EventType, reason: string, message: string): Promise<void> {
    const now = options.clock.now();
    const meta = object.metadata;
    const namespace = meta.namespace || 'default';
    const involvedObject = {
      kind: object.kind,
      namespace: meta.namespace,
      name: meta.name,
      uid: meta.uid,
      apiVersion: object.apiVersion,
      resourceVersion: meta.resourceVersion,
    };
    const key = [involvedObject.kind, namespace, meta.name, meta.uid, type, reason, message].join('\u0000');
    const previous = remembered.get(key);
    if (previous) {
      previous.count++;
      try {
        await events.patch(previous.namespace, previous.name, 'merge', { count: previous.count, lastTimestamp: formatTime(now) });
        return;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        remembered.delete(key);
      }
    }
    // client-go names events "<object>.<unix nanoseconds in hex>"; a sequence keeps names unique under a fake clock.
    const nanos = BigInt(now) * 1_000_000n + BigInt(sequence++ % 1_000_000);
    const name = `${meta.name}.${nanos.toString(16)}`;
    await events.create(namespace, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject,
      reason,
      message,
      source: { component: options.component, ...(options.host ? { host: options.host } : {}) },
      firstTimestamp: formatTime(now),
      lastTimestamp: formatTime(now),
      count: 1,
      type,
      eventTime: null,
      reportingComponent: options.component,
      reportingInstance: options.host ?? '',
    });
    if (remembered.size >= maxRemembered) remembered.delete(remembered.keys().next().value!);
    remembered.set(key, { name, namespace, count: 1 });
  }

  return {
    event(object, type, reason, message) {
      const p: Promise<void> = write(object, type, reason, message)
        .catch((err) => (options.logger ?? (() => undefined))('warn', 'could not record event', { reason, object: meta(object), error: String(err) }))
        .finally(() => pending.delete(p));
      pending.add(p);
    },
    async flush() {
      while (pending.size) await Promise.all([...pending]);
    },
  };
}

function meta(object: KubeObject): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name ?? ''}`;
}
