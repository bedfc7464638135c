// Status writes shared by the workload controllers.
import type { KubeObject } from '../../api/types.js';
import type { ResourceClient } from '../../client/client.js';
import { isConflict, isNotFound } from '../../client/errors.js';

/**
 * Writes `status` through the status subresource, unless it is what `owner` already has. On a
 * conflict it re-reads the object and tries again, at most `retries` more times; an object that
 * was deleted, or re-created under another uid, is left alone (its own sync will write it).
 */
export async function writeStatus(client: ResourceClient, owner: KubeObject, status: unknown, retries = 1): Promise<void> {
  let current = owner;
  for (let attempt = 0; ; attempt++) {
    try {
      await client.updateStatus({ ...current, status });
      return;
    } catch (err) {
      if (isNotFound(err)) return;
      if (!isConflict(err) || attempt >= retries) throw err;
      current = await client.get(owner.metadata.namespace, owner.metadata.name!);
      if (current.metadata.uid !== owner.metadata.uid) return;
    }
  }
}
