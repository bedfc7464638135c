// Kubernetes' slowStartBatch: make calls in batches of 1, 2, 4, … so that a systematic
// failure (quota exhausted, namespace terminating, webhook down) costs one call, not hundreds.
// Stops after the first batch with an error; returns how many calls succeeded and the first error.

export async function slowStartBatch(count: number, initialBatchSize: number, fn: (index: number) => Promise<void>): Promise<{ successes: number; error?: unknown }> {
  let remaining = count;
  let successes = 0;
  let index = 0;
  for (let batch = Math.min(remaining, initialBatchSize); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn(index++)));
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    successes += batch - failures.length;
    if (failures.length) return { successes, error: failures[0]!.reason };
    remaining -= batch;
  }
  return { successes };
}

/** The batch sizes slowStartBatch uses for `count` calls when none fail. */
export function slowStartBatchSizes(count: number, initialBatchSize: number): number[] {
  const sizes: number[] = [];
  let remaining = count;
  for (let batch = Math.min(remaining, initialBatchSize); batch > 0; batch = Math.min(2 * batch, remaining)) {
    sizes.push(batch);
    remaining -= batch;
  }
  return sizes;
}
