// Wires every controller in this folder to one API transport and one shared informer
// factory, as kube-controller-manager does; `navarch server` calls startControllers.
import { setMaxListeners } from 'node:events';
import { createClient } from '../client/client.js';
import { systemClock, type Clock } from '../client/clock.js';
import { SharedInformerFactory, stderrLogger, type Logger } from '../client/informer.js';
import type { Transport } from '../client/transport.js';
import type { Controller } from './framework/controller.js';
import { createEventRecorder } from './framework/events.js';
import { createDeploymentController } from './deployment/controller.js';
import { createGarbageCollector } from './garbagecollector/controller.js';
import { createJobController } from './job/controller.js';
import { createNamespaceController } from './namespace/controller.js';
import { createReplicaSetController, createReplicationController } from './replicaset/controller.js';
import { createRootCaPublisher, createServiceAccountsController } from './serviceaccount/controller.js';
import { createTtlAfterFinishedController } from './ttlafterfinished/controller.js';

export type { Controller } from './framework/controller.js';

export interface StartControllersOptions {
  transport: Transport;
  /** PEM of the cluster CA, published as kube-root-ca.crt in every namespace. */
  caPem: string;
  signal: AbortSignal;
  clock?: Clock;
  logger?: Logger;
  /** Controller names to leave out (`--disable`-style). */
  disabled?: string[];
}

export interface RunningControllers {
  controllers: Controller[];
  /** True once every controller's caches have synced (for /readyz). */
  hasSynced(): boolean;
  /** Resolves after `signal` aborted and every controller and informer stopped. */
  done: Promise<void>;
}

export function startControllers(options: StartControllersOptions): RunningControllers {
  const clock = options.clock ?? systemClock();
  const logger = options.logger ?? stderrLogger;
  setMaxListeners(200, options.signal);
  const client = createClient(options.transport);
  const informerFactory = new SharedInformerFactory(client, { clock, logger });
  const recorder = (component: string) => createEventRecorder({ client, component, clock, logger });
  const base = { client, informerFactory, clock, logger };
  const all: Controller[] = [
    createReplicaSetController({ ...base, recorder: recorder('replicaset-controller') }),
    createReplicationController({ ...base, recorder: recorder('replication-controller') }),
    createDeploymentController({ ...base, recorder: recorder('deployment-controller') }),
    createJobController({ ...base, recorder: recorder('job-controller') }),
    createTtlAfterFinishedController({ ...base }),
    createGarbageCollector({ ...base }),
    createNamespaceController({ ...base }),
    createServiceAccountsController({ ...base }),
    createRootCaPublisher({ ...base, caPem: options.caPem }),
  ];
  const controllers = all.filter((c) => !options.disabled?.includes(c.name));
  informerFactory.start(options.signal);
  const runs = controllers.map((c) => c.start(options.signal));
  return {
    controllers,
    hasSynced: () => controllers.every((c) => c.hasSynced()),
    done: Promise.all(runs).then(() => informerFactory.shutdown()),
  };
}
