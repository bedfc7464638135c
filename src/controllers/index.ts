// Wires every controller in this folder to one API transport and one shared informer
// factory, as kube-controller-manager does; `navarch server` calls startControllers.
import { setMaxListeners } from 'node:events';
import { createClient } from '../client/client.js';
import { systemClock, type Clock } from '../client/clock.js';
import { SharedInformerFactory, stderrLogger, type Logger } from '../client/informer.js';
import { runLeaderElection } from '../client/leader-election.js';
import type { Transport } from '../client/transport.js';
import type { Controller } from './framework/controller.js';
import { createEventRecorder } from './framework/events.js';
import { createCronJobController } from './cronjob/controller.js';
import { createDaemonSetController } from './daemonset/controller.js';
import { createDeploymentController } from './deployment/controller.js';
import { createDisruptionController } from './disruption/controller.js';
import { createGarbageCollector } from './garbagecollector/controller.js';
import { createHorizontalPodAutoscalerController } from './podautoscaler/controller.js';
import { createJobController } from './job/controller.js';
import { createNamespaceController } from './namespace/controller.js';
import { createNodeLifecycleController } from './nodelifecycle/controller.js';
import { createPodGarbageCollector } from './podgc/controller.js';
import { createResourceQuotaController } from './resourcequota/controller.js';
import { createReplicaSetController, createReplicationController } from './replicaset/controller.js';
import { createRootCaPublisher, createServiceAccountsController } from './serviceaccount/controller.js';
import { createStatefulSetController } from './statefulset/controller.js';
import { createTtlAfterFinishedController } from './ttlafterfinished/controller.js';
import { createPersistentVolumeBinder } from './volume/binder.js';
import { createLocalPathProvisioner, defaultLocalPathBase, localDirectoryRemover } from './volume/local-path.js';

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
  /**
   * With several servers on one store only one may run controllers: when set, they run only
   * while this process holds the kube-system/kube-controller-manager Lease.
   */
  leaderElection?: { identity: string; leaseName?: string; leaseNamespace?: string };
  /**
   * Writes of each controller through its own identity (kube-controller-manager's
   * --use-service-account-credentials): `controllerName` is e.g. "deployment-controller".
   * The shared informers keep using `transport`. Default: `transport` for everything.
   */
  transportFor?: (controllerName: string) => Transport;
  /**
   * The local-path provisioner: where volume directories go on every node (default
   * /var/lib/navarch/storage), and the nodes whose disk this process shares (the all-in-one
   * server's own node), whose released volume directories it removes itself.
   */
  localPath?: { basePath?: string; localNodeNames?: string[] };
}

export interface RunningControllers {
  /** The controllers of the current run (empty while not leading). */
  readonly controllers: Controller[];
  /** True once every controller's caches have synced (for /readyz); false while not leading. */
  hasSynced(): boolean;
  /** Resolves after `signal` aborted and every controller and informer stopped. */
  done: Promise<void>;
}

interface Run {
  controllers: Controller[];
  done: Promise<void>;
}

function runControllers(options: StartControllersOptions, clock: Clock, logger: Logger, signal: AbortSignal): Run {
  const client = createClient(options.transport);
  const informerFactory = new SharedInformerFactory(client, { clock, logger });
  const clientFor = (name: string) => (options.transportFor ? createClient(options.transportFor(name)) : client);
  const recorder = (component: string) => createEventRecorder({ client: clientFor(component), component, clock, logger });
  const base = (name: string) => ({ client: clientFor(name), informerFactory, clock, logger });
  const all: Controller[] = [
    createReplicaSetController({ ...base('replicaset-controller'), recorder: recorder('replicaset-controller') }),
    createReplicationController({ ...base('replication-controller'), recorder: recorder('replication-controller') }),
    createDeploymentController({ ...base('deployment-controller'), recorder: recorder('deployment-controller') }),
    createDaemonSetController({ ...base('daemon-set-controller'), recorder: recorder('daemon-set-controller') }),
    createStatefulSetController({ ...base('statefulset-controller'), recorder: recorder('statefulset-controller') }),
    createCronJobController({ ...base('cronjob-controller'), recorder: recorder('cronjob-controller') }),
    createJobController({ ...base('job-controller'), recorder: recorder('job-controller') }),
    createTtlAfterFinishedController({ ...base('ttl-after-finished-controller') }),
    createGarbageCollector({ ...base('generic-garbage-collector') }),
    createNamespaceController({ ...base('namespace-controller') }),
    createServiceAccountsController({ ...base('service-account-controller') }),
    createRootCaPublisher({ ...base('root-ca-cert-publisher'), caPem: options.caPem }),
    createPersistentVolumeBinder({ ...base('persistent-volume-binder'), recorder: recorder('persistent-volume-binder') }),
    createLocalPathProvisioner({
      ...base('persistent-volume-binder'),
      recorder: recorder('persistent-volume-binder'),
      basePath: options.localPath?.basePath,
      directories: localDirectoryRemover({ localNodeNames: options.localPath?.localNodeNames ?? [], basePath: options.localPath?.basePath ?? defaultLocalPathBase }),
    }),
    createDisruptionController({ ...base('disruption-controller'), recorder: recorder('disruption-controller') }),
    createNodeLifecycleController({ ...base('node-controller'), recorder: recorder('node-controller') }),
    createPodGarbageCollector({ ...base('pod-garbage-collector') }),
    createResourceQuotaController({ ...base('resourcequota-controller') }),
    createHorizontalPodAutoscalerController({ ...base('horizontal-pod-autoscaler'), recorder: recorder('horizontal-pod-autoscaler') }),
  ];
  const controllers = all.filter((c) => !options.disabled?.includes(c.name));
  informerFactory.start(signal);
  const runs = controllers.map((c) => c.start(signal));
  return { controllers, done: Promise.all(runs).then(() => informerFactory.shutdown()) };
}

export function startControllers(options: StartControllersOptions): RunningControllers {
  const clock = options.clock ?? systemClock();
  const logger = options.logger ?? stderrLogger;
  setMaxListeners(200, options.signal);
  if (!options.leaderElection) {
    const run = runControllers(options, clock, logger, options.signal);
    return { controllers: run.controllers, hasSynced: () => run.controllers.every((c) => c.hasSynced()), done: run.done };
  }
  let current: Run | undefined;
  const election = options.leaderElection;
  const done = runLeaderElection(
    {
      client: createClient(options.transport),
      namespace: election.leaseNamespace ?? 'kube-system',
      name: election.leaseName ?? 'kube-controller-manager',
      identity: election.identity,
      releaseOnCancel: true,
      clock,
      logger,
      async onStartedLeading(signal) {
        setMaxListeners(200, signal);
        current = runControllers(options, clock, logger, signal);
        await current.done;
      },
      onStoppedLeading() {
        current = undefined;
      },
    },
    options.signal,
  );
  return {
    get controllers() {
      return current?.controllers ?? [];
    },
    hasSynced: () => !!current && current.controllers.every((c) => c.hasSynced()),
    done,
  };
}
