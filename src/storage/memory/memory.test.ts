import { runStoreContract } from '../contract.test-suite.js';
import { createMemoryStore } from './memory-store.js';

runStoreContract('memory', async () => createMemoryStore());
