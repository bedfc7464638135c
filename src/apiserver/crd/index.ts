// Serving CustomResourceDefinitions inside an API server: see README.md.
import { META, type SchemaRegistry } from '../../api/schema/index.js';
import type { KubeObject } from '../../api/types.js';
import { createClient } from '../../client/client.js';
import type { Clock } from '../../client/clock.js';
import type { Logger } from '../../client/informer.js';
import type { UserInfo } from '../admission.js';
import type { ApiServer } from '../index.js';
import { inProcessTransport } from '../in-process-transport.js';
import { CustomResourceDefinitionController } from './crd-controller.js';

export { CustomResourceDefinitionController, cleanupFinalizer, customResourceDefinitionsRef, servedResourcesFor } from './crd-controller.js';
export type { CustomResourceDefinitionControllerOptions, ServedResourcesOptions } from './crd-controller.js';
export { validateCustomResource, validateValue } from './schema-validation.js';
export { applySchemaDefaults } from './schema-defaults.js';
export { printerForColumns, columnsOrDefault, parseJsonPath, evaluate as evaluateJsonPath, type PrinterColumn } from './printer.js';

/** The identity the controller writes CRD status and deletes custom resources as. */
export const apiextensionsUser: UserInfo = { username: 'system:apiserver', groups: ['system:masters', 'system:authenticated'] };

export interface CustomResourceDefinitions {
  controller: CustomResourceDefinitionController;
  /** Established CRDs, for the OpenAPI handler's `customResources`. */
  customResourceDefinitions(): KubeObject[];
  /** For /readyz (kube-apiserver's poststarthook/crd-informer-synced). */
  hasSynced(): boolean;
  /** Resolves once the controller has stopped (after `signal` aborted). */
  stopped: Promise<void>;
}

/** Starts serving CRDs in `api` until `signal` aborts. The controller goes through the API like any client. */
export function startCustomResourceDefinitions(
  api: ApiServer,
  signal: AbortSignal,
  options: { schemas?: SchemaRegistry; clock?: Clock; logger?: Logger } = {},
): CustomResourceDefinitions {
  const client = createClient(inProcessTransport(api.handler, apiextensionsUser, 'navarch-apiextensions'));
  const controller = new CustomResourceDefinitionController({
    registry: api.registry,
    client,
    clock: options.clock,
    logger: options.logger,
    objectMeta: options.schemas?.definition(`${META}.ObjectMeta`),
  });
  const stopped = controller.start(signal).catch((e) => {
    (options.logger ?? ((_l, m, f) => console.error(JSON.stringify({ component: 'apiextensions', level: 'error', message: m, ...f }))))('error', 'crd controller stopped', { error: String(e) });
  });
  return {
    controller,
    customResourceDefinitions: () => controller.customResourceDefinitions(),
    hasSynced: () => controller.hasSynced(),
    stopped,
  };
}
