// List + watch of one collection, the way client-go's reflector does it: list to get the state
// and a resourceVersion, watch from there, resume from the last resourceVersion seen when the
// stream ends, relist when the server says that version is gone (410), back off on failures.
// Pure module: the api, the clock and sleep are injected, so Node tests drive it.

/** Splits a byte/text stream into lines and parses each non-empty one as JSON. */
export function createLineParser(onValue) {
  const decoder = new TextDecoder();
  let buffer = '';
  const drain = () => {
    let newline;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line) onValue(JSON.parse(line));
    }
  };
  return {
    push(chunk) {
      buffer += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
      drain();
    },
    /** The stream ended: a last line without a newline still counts. */
    end() {
      buffer += decoder.decode();
      drain();
      const rest = buffer.trim();
      buffer = '';
      if (rest) onValue(JSON.parse(rest));
    },
  };
}

/** Parses a whole watch stream at once (for tests and small bodies). */
export function parseWatchStream(text) {
  const events = [];
  const parser = createLineParser((e) => events.push(e));
  parser.push(text);
  parser.end();
  return events;
}

class Expired extends Error {}

const defaultSleep = (ms, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

/**
 * Keeps a collection in sync until `signal` aborts.
 * Callbacks: onReplace(items) after every (re)list; onEvent(type, object) for ADDED/MODIFIED/DELETED;
 * onState(state, error) with 'syncing' | 'live' | 'retrying' | 'failed' (401/403/404: no retry).
 */
export async function listAndWatch({ api, path, query = {}, signal, onReplace, onEvent, onState = () => {}, sleep = defaultSleep, timeoutSeconds = 300, maxBackoffMs = 30_000, now = () => Date.now() }) {
  let resourceVersion = null;
  let backoff = 500;
  while (!signal?.aborted) {
    try {
      if (resourceVersion === null) {
        onState('syncing');
        const list = await api.get(path, query, signal);
        resourceVersion = list.metadata?.resourceVersion ?? '0';
        onReplace(list.items ?? []);
      }
      if (signal?.aborted) return;
      onState('live');
      const started = now();
      let received = 0;
      const parser = createLineParser((event) => {
        if (event.type === 'ERROR') {
          if (event.object?.code === 410) throw new Expired(event.object.message);
          const error = new Error(event.object?.message ?? 'watch error');
          error.code = event.object?.code;
          throw error;
        }
        const rv = event.object?.metadata?.resourceVersion;
        if (rv) resourceVersion = rv;
        received++;
        if (event.type !== 'BOOKMARK') onEvent(event.type, event.object);
      });
      for await (const chunk of api.watch(path, { ...query, resourceVersion, allowWatchBookmarks: 'true', timeoutSeconds: String(timeoutSeconds) }, signal)) {
        parser.push(chunk);
      }
      parser.end();
      if (signal?.aborted) return;
      // A stream that closes at once without news is a failure in disguise: do not spin on it.
      if (received === 0 && now() - started < 1000) {
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, maxBackoffMs);
      } else {
        backoff = 500;
      }
    } catch (error) {
      if (signal?.aborted) return;
      if (error instanceof Expired || error?.code === 410) {
        resourceVersion = null;
        continue;
      }
      if ([401, 403, 404].includes(error?.code)) {
        onState('failed', error);
        return;
      }
      onState('retrying', error);
      await sleep(backoff, signal);
      backoff = Math.min(backoff * 2, maxBackoffMs);
    }
  }
}

/** Applies one watch event to a Map keyed by namespace/name; returns the map. */
export function applyEvent(map, type, object) {
  const key = `${object.metadata?.namespace ?? ''}/${object.metadata?.name}`;
  if (type === 'DELETED') map.delete(key);
  else map.set(key, object);
  return map;
}
