import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runStoreContract } from '../contract.test-suite.js';
import { openSqliteStore } from './sqlite-store.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'navarch-sqlite-test-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const nextFile = () => path.join(dir, `store-${++counter}.db`);

runStoreContract('sqlite', async () => openSqliteStore(nextFile()));
