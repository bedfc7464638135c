// Child process for the kill -9 test: writes keys as fast as it can (several writes in flight,
// so group commit is exercised) and prints one line per acknowledged write.
import { openSqliteStore } from '../sqlite-store.js';

const file = process.argv[2];
if (!file) throw new Error('usage: crash-writer.ts <file>');
const store = openSqliteStore(file);
const inFlight = 8;
let next = 0;

async function writer(): Promise<void> {
  for (;;) {
    const i = next++;
    const key = `/registry/configmaps/crash/k${i}`;
    const result = await store.create(key, JSON.stringify({ i }));
    if (!result.succeeded) throw new Error(`create ${key} failed`);
    // stdout on a pipe is synchronous on Linux: once written, the parent will read it.
    process.stdout.write(`${i} ${result.revision}\n`);
  }
}

process.stdout.write('ready\n');
await Promise.all(Array.from({ length: inFlight }, writer));
