// Events the scheduler reports (Scheduled, FailedScheduling, Preempted), written as
// core/v1 Events so `kubectl describe pod` and `kubectl get events` show them.
import type { KubeObject } from '../api/types.js';
import type { Client } from '../client/client.js';
import type { Clock } from '../client/clock.js';

export interface EventRecorder {
  /** Fire-and-forget: an event that cannot be written must never fail scheduling. */
  event(regarding: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

const eventsRef = { group: '', version: 'v1', resource: 'events', namespaced: true, kind: 'Event' };

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function apiEventRecorder(client: Client, component: string, clock: Clock, onError?: (err: unknown) => void): EventRecorder {
  const events = client.resource(eventsRef);
  let sequence = 0;
  return {
    event(regarding, type, reason, message) {
      const now = clock.now();
      const namespace = regarding.metadata.namespace || 'default';
      // Kubernetes names events "<object>.<hex nanoseconds>"; a sequence keeps same-millisecond ones apart.
      const name = `${regarding.metadata.name}.${(now * 1000 + (sequence++ % 1000)).toString(16)}`;
      const body = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace },
        involvedObject: {
          apiVersion: regarding.apiVersion ?? 'v1',
          kind: regarding.kind ?? 'Pod',
          namespace: regarding.metadata.namespace,
          name: regarding.metadata.name,
          uid: regarding.metadata.uid,
          resourceVersion: regarding.metadata.resourceVersion,
        },
        reason,
        message,
        type,
        source: { component },
        reportingComponent: component,
        reportingInstance: component,
        firstTimestamp: rfc3339(now),
        lastTimestamp: rfc3339(now),
        count: 1,
      };
      events.create(namespace, body).catch((err) => onError?.(err));
    },
  };
}

/** Keeps events in memory: for tests of the pure parts and for the benchmark's quiet mode. */
export function memoryEventRecorder(): EventRecorder & { events: { regarding: KubeObject; type: string; reason: string; message: string }[] } {
  const events: { regarding: KubeObject; type: string; reason: string; message: string }[] = [];
  return {
    events,
    event(regarding, type, reason, message) {
      events.push({ regarding, type, reason, message });
    },
  };
}
