import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createStore } from './index.js';

test('createStore opens the named embedded backends and refuses incomplete options', async () => {
  const memory = await createStore({ backend: 'memory' });
  assert.equal(memory.backend, 'memory');
  await memory.close();

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'navarch-createstore-'));
  try {
    const file = path.join(dir, 'db', 'state.db');
    const sqlite = await createStore({ backend: 'sqlite', path: file });
    assert.equal(sqlite.backend, 'sqlite');
    assert.ok((await sqlite.create('/registry/namespaces/default', '{}')).succeeded);
    await sqlite.close();
    assert.ok(fs.existsSync(file));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  await assert.rejects(createStore({ backend: 'sqlite' }), /file path/);
  await assert.rejects(createStore({ backend: 'etcd' }), /endpoint/);
  await assert.rejects(createStore({ backend: 'mongo' as 'memory' }), /unknown storage backend 'mongo'/);
});
