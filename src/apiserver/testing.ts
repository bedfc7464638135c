// A real API server in-process for tests: memory store, every built-in kind with its real
// defaulting/validation/admission, reached through the in-process transport. Controllers,
// the scheduler and the kubelet test against this instead of hand-written fakes.
import { builtinResources } from '../api/resources.js';
import { createSchemaRegistry } from '../api/schema/index.js';
import { createClient, type Client } from '../client/client.js';
import type { Transport } from '../client/transport.js';
import { createMemoryStore } from '../storage/memory/memory-store.js';
import type { Store } from '../storage/types.js';
import type { Clock } from '../util/clock.js';
import { systemClock } from '../util/clock.js';
import type { UserInfo } from './admission.js';
import { bootstrapClusterObjects } from './bootstrap.js';
import { builtinSemantics } from './builtin-semantics.js';
import { createApiServer, type ApiServer } from './index.js';
import { inProcessTransport } from './in-process-transport.js';
import { patchEngines } from './patch-engines.js';
import { selectorParsers } from './selector-parsers.js';
import { subresourceHandlers } from './subresources.js';
import { defaultAdmission } from './admission-plugins.js';
import { startCustomResourceDefinitions, type CustomResourceDefinitions } from './crd/index.js';
import { openApiHandler } from './openapi-handler.js';
import type { Authorizer, SubresourceHandler } from './handler.js';

export interface TestApiServer {
  api: ApiServer;
  /** A transport acting as `user` (cluster-admin by default). */
  transport(user?: UserInfo): Transport;
  /** A client acting as cluster-admin. */
  client: Client;
  /** The CRD controller serving CustomResourceDefinitions, as in `navarch server`. */
  crds: CustomResourceDefinitions;
  close(): Promise<void>;
}

export const testAdmin: UserInfo = { username: 'test-admin', groups: ['system:masters', 'system:authenticated'] };

export async function startTestApiServer(options: { clock?: Clock; subresources?: Record<string, SubresourceHandler>; store?: Store; authorizer?: Authorizer } = {}): Promise<TestApiServer> {
  const clock = options.clock ?? systemClock;
  const store = options.store ?? createMemoryStore();
  const schemas = createSchemaRegistry({ kinds: builtinResources });
  let apiRef: ApiServer | undefined;
  let openApi: ReturnType<typeof openApiHandler> | undefined;
  const api = await createApiServer({
    store,
    resources: builtinResources,
    semantics: builtinSemantics(schemas, builtinResources),
    patch: patchEngines(),
    selectors: selectorParsers,
    clock,
    admission: defaultAdmission({ resources: () => apiRef!.resources, registry: () => apiRef!.registry }),
    subresources: { ...subresourceHandlers({ registry: () => apiRef!.registry, resources: () => apiRef!.resources, now: () => new Date(clock.now()) }), ...options.subresources },
    nonResource: [(request) => openApi!(request)],
    authorizer: options.authorizer,
  });
  apiRef = api;
  const components = new AbortController();
  const crds = startCustomResourceDefinitions(api, components.signal, { schemas });
  openApi = openApiHandler(api.registry, schemas, () => crds.customResourceDefinitions());
  await bootstrapClusterObjects(api);
  const transport = (user: UserInfo = testAdmin) => inProcessTransport(api.handler, user, 'navarch-test');
  return {
    api,
    transport,
    client: createClient(transport()),
    crds,
    async close() {
      components.abort();
      await crds.stopped;
      await api.close();
      await store.close();
    },
  };
}
