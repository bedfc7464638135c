// core/v1 Events about pods, as the kubelet's recorder writes them: source kubelet/<node>,
// involvedObject with fieldPath spec.containers{name}, and repeats folded into count.
import type { Client } from '../client/client.js';
import type { Clock } from '../client/clock.js';
import { rfc3339 } from './status.js';

export interface PodEventRecorder {
  event(pod: any, type: 'Normal' | 'Warning', reason: string, message: string, containerName?: string, initContainer?: boolean): void;
}

interface Seen { name: string; namespace: string; count: number; firstTimestamp: string; lastWrite: Promise<unknown> }

export function createEventRecorder(client: Client, nodeName: string, clock: Clock, onError: (err: Error) => void): PodEventRecorder {
  const events = client.resource({ group: '', version: 'v1', resource: 'events', namespaced: true, kind: 'Event' });
  const seen = new Map<string, Seen>();
  let seq = 0;
  return {
    event(pod, type, reason, message, containerName, initContainer) {
      const namespace = pod.metadata.namespace;
      const fieldPath = containerName ? `spec.${initContainer ? 'initContainers' : 'containers'}{${containerName}}` : undefined;
      const key = [pod.metadata.uid, fieldPath ?? '', type, reason, message].join('\u0000');
      const now = rfc3339(clock.now());
      const previous = seen.get(key);
      if (previous) {
        previous.count++;
        const count = previous.count;
        previous.lastWrite = previous.lastWrite.then(() =>
          events.patch(namespace, previous.name, 'merge', { count, lastTimestamp: now }).catch(onError),
        );
        return;
      }
      const name = `${pod.metadata.name}.${(clock.now() * 1000 + (seq++ % 1000)).toString(16)}`;
      const involvedObject: any = { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, namespace, uid: pod.metadata.uid, resourceVersion: pod.metadata.resourceVersion };
      if (fieldPath) involvedObject.fieldPath = fieldPath;
      const entry: Seen = { name, namespace, count: 1, firstTimestamp: now, lastWrite: Promise.resolve() };
      entry.lastWrite = events
        .create(namespace, {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name, namespace },
          involvedObject,
          reason,
          message,
          type,
          source: { component: 'kubelet', host: nodeName },
          reportingComponent: 'kubelet',
          reportingInstance: nodeName,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        } as any)
        .catch(onError);
      seen.set(key, entry);
      // Bounded memory: forget the oldest aggregation keys.
      if (seen.size > 4096) seen.delete(seen.keys().next().value!);
    },
  };
}
