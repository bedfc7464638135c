// Pod deletions by a controller that tracks expectations (Kubernetes' PodControl as the
// ReplicaSet and DaemonSet controllers use it).
import type { KubeObject } from '../../api/types.js';
import { objectKey, type ResourceClient } from '../../client/client.js';
import { isNotFound } from '../../client/errors.js';
import type { EventRecorder } from './events.js';
import type { ControllerExpectations } from './expectations.js';

/**
 * Deletes `pods` of `owner` in parallel (uid preconditions), with SuccessfulDelete/FailedDelete
 * events on the owner. The caller has already expected these deletions under `key`; a failed
 * delete will never be observed by a watch, so it is observed here. Returns the errors other
 * than NotFound (a pod already gone is what was wanted).
 */
export async function deleteExpectedPods(options: { owner: KubeObject; pods: KubeObject[]; podClient: ResourceClient; recorder: EventRecorder; expectations: ControllerExpectations; key: string }): Promise<unknown[]> {
  const { owner, podClient, recorder, expectations, key } = options;
  const errors: unknown[] = [];
  await Promise.all(
    options.pods.map(async (pod) => {
      try {
        await podClient.delete(pod.metadata.namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid } });
        recorder.event(owner, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
      } catch (err) {
        expectations.deletionObserved(key, objectKey(pod));
        if (isNotFound(err)) return;
        recorder.event(owner, 'Warning', 'FailedDelete', `Error deleting: ${(err as Error).message}`);
        errors.push(err);
      }
    }),
  );
  return errors;
}
