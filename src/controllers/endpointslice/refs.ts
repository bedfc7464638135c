// The resources the networking controllers read and write.
import type { ResourceRef } from '../../client/client.js';

export const servicesRef: ResourceRef = { group: '', version: 'v1', resource: 'services', namespaced: true, kind: 'Service' };
export const podsRef: ResourceRef = { group: '', version: 'v1', resource: 'pods', namespaced: true, kind: 'Pod' };
export const nodesRef: ResourceRef = { group: '', version: 'v1', resource: 'nodes', namespaced: false, kind: 'Node' };
export const endpointsRef: ResourceRef = { group: '', version: 'v1', resource: 'endpoints', namespaced: true, kind: 'Endpoints' };
export const endpointSlicesRef: ResourceRef = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespaced: true, kind: 'EndpointSlice' };
