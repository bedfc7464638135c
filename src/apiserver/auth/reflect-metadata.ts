// @peculiar/x509 pulls in tsyringe, which refuses to load unless the Reflect Metadata API exists
// (the library documents that the application must install a polyfill). navarch does not emit
// decorator metadata, so only the lookup/define surface tsyringe touches is needed; this provides
// it when no real polyfill (`reflect-metadata`) is loaded. Import this module before @peculiar/x509.

type MetadataTarget = object;
type ReflectWithMetadata = typeof Reflect & {
  getMetadata?: (key: unknown, target: MetadataTarget, property?: PropertyKey) => unknown;
};

const reflect = Reflect as ReflectWithMetadata;

if (typeof reflect.getMetadata !== 'function') {
  // Keyed by target then property; WeakMap so classes and objects can still be collected.
  const store = new WeakMap<MetadataTarget, Map<PropertyKey | undefined, Map<unknown, unknown>>>();
  const own = (target: MetadataTarget, property: PropertyKey | undefined, create: boolean) => {
    let byProperty = store.get(target);
    if (!byProperty) {
      if (!create) return undefined;
      byProperty = new Map();
      store.set(target, byProperty);
    }
    let entries = byProperty.get(property);
    if (!entries && create) {
      entries = new Map();
      byProperty.set(property, entries);
    }
    return entries;
  };
  const getOwnMetadata = (key: unknown, target: MetadataTarget, property?: PropertyKey) => own(target, property, false)?.get(key);
  const hasOwnMetadata = (key: unknown, target: MetadataTarget, property?: PropertyKey) => own(target, property, false)?.has(key) ?? false;
  const walk = <T>(target: MetadataTarget, visit: (t: MetadataTarget) => T | undefined): T | undefined => {
    for (let t: MetadataTarget | null = target; t; t = Object.getPrototypeOf(t)) {
      const found = visit(t);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  const api = {
    defineMetadata(key: unknown, value: unknown, target: MetadataTarget, property?: PropertyKey) {
      own(target, property, true)!.set(key, value);
    },
    getOwnMetadata,
    hasOwnMetadata,
    getMetadata: (key: unknown, target: MetadataTarget, property?: PropertyKey) =>
      walk(target, (t) => (hasOwnMetadata(key, t, property) ? { value: getOwnMetadata(key, t, property) } : undefined))?.value,
    hasMetadata: (key: unknown, target: MetadataTarget, property?: PropertyKey) =>
      walk(target, (t) => (hasOwnMetadata(key, t, property) ? true : undefined)) ?? false,
    metadata: (key: unknown, value: unknown) => (target: MetadataTarget, property?: PropertyKey) => {
      api.defineMetadata(key, value, target, property);
    },
  };
  Object.assign(Reflect, api);
}

export {};
