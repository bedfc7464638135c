// Small hand-written schemas with the same patch metadata Kubernetes publishes for these kinds.
import type { SchemaNode } from '../../../api/types.js';

const str: SchemaNode = { type: 'string' };
const int: SchemaNode = { type: 'integer' };
const stringMap: SchemaNode = { type: 'object', additionalProperties: str };

const containerPort: SchemaNode = {
  type: 'object',
  properties: { name: str, containerPort: int, protocol: { type: 'string', default: 'TCP' }, hostPort: int },
};

const envVar: SchemaNode = {
  type: 'object',
  properties: {
    name: str,
    value: str,
    valueFrom: { type: 'object', properties: { fieldRef: { type: 'object', properties: { fieldPath: str } } } },
  },
};

export const containerSchema: SchemaNode = {
  type: 'object',
  properties: {
    name: str,
    image: str,
    imagePullPolicy: str,
    command: { type: 'array', items: str },
    args: { type: 'array', items: str },
    ports: {
      type: 'array',
      items: containerPort,
      'x-kubernetes-patch-merge-key': 'containerPort',
      'x-kubernetes-patch-strategy': 'merge',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['containerPort', 'protocol'],
    },
    env: { type: 'array', items: envVar, 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-patch-strategy': 'merge' },
    resources: {
      type: 'object',
      properties: { limits: stringMap, requests: stringMap },
    },
    volumeMounts: {
      type: 'array',
      items: { type: 'object', properties: { name: str, mountPath: str, readOnly: { type: 'boolean' } } },
      'x-kubernetes-patch-merge-key': 'mountPath',
      'x-kubernetes-patch-strategy': 'merge',
    },
  },
};

const volume: SchemaNode = {
  type: 'object',
  properties: {
    name: str,
    emptyDir: { type: 'object', properties: { medium: str, sizeLimit: str } },
    configMap: { type: 'object', properties: { name: str, defaultMode: int } },
    secret: { type: 'object', properties: { secretName: str } },
  },
};

export const podSpecSchema: SchemaNode = {
  type: 'object',
  properties: {
    containers: {
      type: 'array',
      items: containerSchema,
      'x-kubernetes-patch-merge-key': 'name',
      'x-kubernetes-patch-strategy': 'merge',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
    },
    initContainers: {
      type: 'array',
      items: containerSchema,
      'x-kubernetes-patch-merge-key': 'name',
      'x-kubernetes-patch-strategy': 'merge',
    },
    volumes: {
      type: 'array',
      items: volume,
      'x-kubernetes-patch-merge-key': 'name',
      'x-kubernetes-patch-strategy': 'merge,retainKeys',
    },
    nodeSelector: { ...stringMap, 'x-kubernetes-map-type': 'atomic' },
    restartPolicy: str,
    tolerations: {
      type: 'array',
      items: { type: 'object', properties: { key: str, operator: str, value: str, effect: str } },
      'x-kubernetes-list-type': 'atomic',
    },
  },
};

const objectMeta: SchemaNode = {
  type: 'object',
  properties: {
    name: str,
    namespace: str,
    labels: stringMap,
    annotations: stringMap,
    finalizers: { type: 'array', items: str, 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-list-type': 'set' },
  },
};

export const podSchema: SchemaNode = {
  type: 'object',
  properties: { apiVersion: str, kind: str, metadata: objectMeta, spec: podSpecSchema, status: { type: 'object' } },
};

export const deploymentSchema: SchemaNode = {
  type: 'object',
  properties: {
    apiVersion: str,
    kind: str,
    metadata: objectMeta,
    spec: {
      type: 'object',
      properties: {
        replicas: int,
        selector: {
          type: 'object',
          properties: { matchLabels: stringMap },
          'x-kubernetes-map-type': 'atomic',
        },
        strategy: {
          type: 'object',
          'x-kubernetes-patch-strategy': 'retainKeys',
          properties: {
            type: str,
            rollingUpdate: { type: 'object', properties: { maxSurge: str, maxUnavailable: str } },
          },
        },
        template: {
          type: 'object',
          properties: { metadata: objectMeta, spec: podSpecSchema },
        },
      },
    },
  },
};

export const serviceSchema: SchemaNode = {
  type: 'object',
  properties: {
    apiVersion: str,
    kind: str,
    metadata: objectMeta,
    spec: {
      type: 'object',
      properties: {
        type: str,
        selector: { ...stringMap, 'x-kubernetes-map-type': 'atomic' },
        clusterIP: str,
        ports: {
          type: 'array',
          items: { type: 'object', properties: { name: str, port: int, targetPort: { 'x-kubernetes-int-or-string': true }, protocol: { type: 'string', default: 'TCP' }, nodePort: int } },
          'x-kubernetes-patch-merge-key': 'port',
          'x-kubernetes-patch-strategy': 'merge',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['port', 'protocol'],
        },
      },
    },
  },
};

export const configMapSchema: SchemaNode = {
  type: 'object',
  properties: { apiVersion: str, kind: str, metadata: objectMeta, data: stringMap, binaryData: stringMap, immutable: { type: 'boolean' } },
};
