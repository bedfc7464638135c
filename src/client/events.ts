// The event recorder: what makes `kubectl describe` show "Scheduled", "Pulled",
// "FailedScheduling"... It writes core/v1 Events with the correlation client-go applies,
// so a crash-looping pod produces one Event with a growing count rather than thousands:
//  - identical events (same object, type, reason, message, source) → one Event whose
//    count and lastTimestamp are PATCHed;
//  - more than 10 distinct messages for the same object+reason within 10 minutes →
//    one "(combined from similar events): ..." Event, itself counted;
//  - a token bucket per object (burst 25, then one per 5 minutes) drops the rest.
// Recording never blocks the caller and never throws: events are best-effort by design.
import type { KubeObject } from '../api/types.js';
import type { Clock } from './clock.js';
import { sleep, systemClock } from './clock.js';
import type { Client, ResourceClient, ResourceRef } from './client.js';
import { isAlreadyExists, isNotFound } from './errors.js';
import type { Logger } from './informer.js';
import { stderrLogger } from './informer.js';

export const eventsResource: ResourceRef = { group: '', version: 'v1', resource: 'events', namespaced: true, kind: 'Event' };

export type EventType = 'Normal' | 'Warning';

export interface ObjectReference {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  resourceVersion?: string;
  fieldPath?: string;
}

export interface CoreEvent extends KubeObject {
  involvedObject: ObjectReference;
  reason: string;
  message: string;
  type: EventType;
  source: { component: string; host?: string };
  firstTimestamp: string;
  lastTimestamp: string;
  count: number;
  reportingComponent: string;
  reportingInstance: string;
}

export interface EventRecorderOptions {
  client: Client;
  /** source.component and reportingComponent: "default-scheduler", "kubelet", "deployment-controller". */
  component: string;
  /** source.host and reportingInstance (the node name for a kubelet). */
  host?: string;
  clock?: Clock;
  logger?: Logger;
  /** Per-object token bucket (client-go: burst 25, refill one per 300 s). */
  spamBurst?: number;
  spamRefillPerSecond?: number;
  /** Similar-event aggregation (client-go: 10 distinct messages within 600 s). */
  aggregateMaxEvents?: number;
  aggregateIntervalMs?: number;
  /** Entries kept for correlation (client-go: 4096, least recently used evicted). */
  cacheSize?: number;
  /** Events waiting to be written; beyond this new ones are dropped. */
  maxQueued?: number;
  /** Write attempts per event and the pause between them. */
  maxAttempts?: number;
  retryDelayMs?: number;
}

const aggregatedMessagePrefix = '(combined from similar events): ';

/** metav1.Time: RFC 3339 with whole seconds. */
function formatTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** A Map used as an LRU: re-inserting on access keeps recent keys at the end. */
class LruCache<V> {
  private map = new Map<string, V>();
  constructor(private readonly capacity: number) {}
  get(key: string): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }
  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value!);
  }
  delete(key: string): void {
    this.map.delete(key);
  }
}

interface Observation {
  name: string;
  namespace: string;
  count: number;
  firstTimestamp: string;
}

interface AggregateRecord {
  messages: Set<string>;
  lastMs: number;
}

interface SpamRecord {
  tokens: number;
  lastMs: number;
}

export function referenceTo(obj: KubeObject | ObjectReference): ObjectReference {
  if ('metadata' in obj && obj.metadata) {
    const o = obj as KubeObject;
    return {
      apiVersion: o.apiVersion,
      kind: o.kind,
      namespace: o.metadata.namespace,
      name: o.metadata.name,
      uid: o.metadata.uid,
      resourceVersion: o.metadata.resourceVersion,
    };
  }
  return obj as ObjectReference;
}

export class EventRecorder {
  private readonly events: ResourceClient<CoreEvent>;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly observations: LruCache<Observation>;
  private readonly aggregates: LruCache<AggregateRecord>;
  private readonly spam: LruCache<SpamRecord>;
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private sequence = 0;

  constructor(private readonly options: EventRecorderOptions) {
    this.events = options.client.resource<CoreEvent>(eventsResource);
    this.clock = options.clock ?? systemClock();
    this.logger = options.logger ?? stderrLogger;
    const size = options.cacheSize ?? 4096;
    this.observations = new LruCache(size);
    this.aggregates = new LruCache(size);
    this.spam = new LruCache(size);
  }

  /** Records an event about `obj`; returns at once, the write happens in the background. */
  event(obj: KubeObject | ObjectReference, type: EventType, reason: string, message: string): void {
    this.annotatedEvent(obj, undefined, type, reason, message);
  }

  annotatedEvent(obj: KubeObject | ObjectReference, annotations: Record<string, string> | undefined, type: EventType, reason: string, message: string): void {
    if (type !== 'Normal' && type !== 'Warning') {
      this.logger('error', 'unsupported event type', { type, reason });
      return;
    }
    const involvedObject = referenceTo(obj);
    if (!involvedObject.name) {
      this.logger('error', 'event about an object without a name', { reason });
      return;
    }
    if (this.queued >= (this.options.maxQueued ?? 1000)) {
      this.logger('warn', 'event queue full, dropping event', { reason, object: involvedObject.name });
      return;
    }
    const now = this.clock.now();
    const event = this.correlate(involvedObject, annotations, type, reason, message, now);
    if (!event) return;
    this.queued++;
    this.queue = this.queue
      .then(() => this.write(event.key, event.event))
      .catch((err) => this.logger('error', 'event write failed', { error: String(err) }))
      .finally(() => this.queued--);
  }

  /** Resolves once every event recorded so far has been written (or given up on). */
  flush(): Promise<void> {
    return this.queue;
  }

  private correlate(
    involvedObject: ObjectReference,
    annotations: Record<string, string> | undefined,
    type: EventType,
    reason: string,
    message: string,
    now: number,
  ): { key: string; event: CoreEvent } | undefined {
    const objectKey = [
      this.options.component,
      this.options.host ?? '',
      involvedObject.kind ?? '',
      involvedObject.namespace ?? '',
      involvedObject.name,
      involvedObject.uid ?? '',
      involvedObject.apiVersion ?? '',
    ].join('\u0000');

    // Aggregation: past the limit of distinct messages, use one combined Event per reason.
    const aggregateKey = [objectKey, type, reason].join('\u0000');
    const interval = this.options.aggregateIntervalMs ?? 600_000;
    let record = this.aggregates.get(aggregateKey);
    if (!record || now - record.lastMs > interval) record = { messages: new Set(), lastMs: now };
    record.messages.add(message);
    record.lastMs = now;
    this.aggregates.set(aggregateKey, record);
    let key = [aggregateKey, message].join('\u0000');
    if (record.messages.size >= (this.options.aggregateMaxEvents ?? 10)) {
      message = aggregatedMessagePrefix + message;
      key = aggregateKey;
    }

    // Spam filter: a token bucket per object.
    const burst = this.options.spamBurst ?? 25;
    const refill = this.options.spamRefillPerSecond ?? 1 / 300;
    const spam = this.spam.get(objectKey) ?? { tokens: burst, lastMs: now };
    spam.tokens = Math.min(burst, spam.tokens + ((now - spam.lastMs) / 1000) * refill);
    spam.lastMs = now;
    this.spam.set(objectKey, spam);
    if (spam.tokens < 1) {
      this.logger('info', 'event dropped by spam filter', { reason, object: involvedObject.name });
      return undefined;
    }
    spam.tokens -= 1;

    const timestamp = formatTime(now);
    // Unique names: the object's name plus a nanosecond-style hex stamp, as client-go does;
    // the sequence keeps two events of the same millisecond apart.
    const stamp = (BigInt(now) * 1_000_000n + BigInt(this.sequence++ % 1_000_000)).toString(16);
    const namespace = involvedObject.namespace || 'default';
    return {
      key,
      event: {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${involvedObject.name}.${stamp}`, namespace, ...(annotations ? { annotations } : {}) },
        involvedObject,
        reason,
        message,
        type,
        source: this.options.host ? { component: this.options.component, host: this.options.host } : { component: this.options.component },
        firstTimestamp: timestamp,
        lastTimestamp: timestamp,
        count: 1,
        reportingComponent: this.options.component,
        reportingInstance: this.options.host ?? '',
      },
    };
  }

  private async write(key: string, event: CoreEvent): Promise<void> {
    const maxAttempts = this.options.maxAttempts ?? 12;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const observed = this.observations.get(key);
      try {
        let written: CoreEvent;
        if (observed) {
          try {
            written = await this.events.patch(observed.namespace, observed.name, 'merge', {
              count: observed.count + 1,
              lastTimestamp: event.lastTimestamp,
              message: event.message,
            });
          } catch (err) {
            if (!isNotFound(err)) throw err;
            // Someone deleted the Event (TTL, kubectl delete): start a new one.
            this.observations.delete(key);
            written = await this.events.create(event.metadata.namespace, event);
          }
        } else {
          written = await this.events.create(event.metadata.namespace, event);
        }
        this.observations.set(key, {
          name: written.metadata.name!,
          namespace: written.metadata.namespace!,
          count: written.count ?? 1,
          firstTimestamp: written.firstTimestamp,
        });
        return;
      } catch (err) {
        if (isAlreadyExists(err)) return; // a retry of a write that did land
        this.logger('warn', 'could not write event', { reason: event.reason, object: event.involvedObject.name, attempt, error: String(err) });
        if (attempt < maxAttempts) await sleep(this.clock, this.options.retryDelayMs ?? 10_000);
      }
    }
  }
}

export function createEventRecorder(options: EventRecorderOptions): EventRecorder {
  return new EventRecorder(options);
}
