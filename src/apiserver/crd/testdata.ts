// The CronTab CRD of Kubernetes' "Extend the Kubernetes API with CustomResourceDefinitions" page,
// with the validation, defaulting, subresources and printer columns that page walks through.
import type { KubeObject } from '../../api/types.js';

export function cronTabDefinition(): KubeObject {
  const schema = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          cronSpec: { type: 'string', pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$' },
          image: { type: 'string', default: 'nginx:latest' },
          replicas: { type: 'integer', minimum: 1, maximum: 10, default: 1 },
          selector: { type: 'string' },
        },
        required: ['cronSpec'],
      },
      status: {
        type: 'object',
        properties: { replicas: { type: 'integer' }, labelSelector: { type: 'string' } },
      },
    },
  };
  const columns = [
    { name: 'Spec', type: 'string', description: 'The cron spec defining the interval a CronJob is run', jsonPath: '.spec.cronSpec' },
    { name: 'Replicas', type: 'integer', description: 'The number of jobs launched by the CronJob', jsonPath: '.spec.replicas' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ];
  const subresources = { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.labelSelector' } };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'crontabs.stable.example.com' },
    spec: {
      group: 'stable.example.com',
      scope: 'Namespaced',
      names: { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', shortNames: ['ct'] },
      versions: [
        { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: schema }, additionalPrinterColumns: columns, subresources },
        { name: 'v1beta1', served: true, storage: false, schema: { openAPIV3Schema: schema }, subresources },
      ],
    },
  };
}
