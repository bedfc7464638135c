// Image references normalised the way Docker and the kubelet do:
// "busybox" → "docker.io/library/busybox:latest"; "localhost:5000/x" keeps its registry.

export interface ImageReference {
  /** "docker.io", "127.0.0.1:5000" … */
  registry: string;
  /** "library/busybox" */
  repository: string;
  tag?: string;
  digest?: string;
}

const dockerHub = 'docker.io';

export function parseReference(ref: string): ImageReference {
  let rest = ref.trim();
  if (!rest || /\s/.test(rest)) {
    throw new Error(`invalid reference format: "${ref}"`);
  }
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!/^[a-z0-9]+:[a-f0-9]{32,}$/.test(digest)) throw new Error(`invalid reference format: bad digest in "${ref}"`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) { tag = rest.slice(colon + 1); rest = rest.slice(0, colon); }
  let registry = dockerHub;
  const first = rest.split('/')[0];
  if (rest.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = first;
    rest = rest.slice(first.length + 1);
  }
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = dockerHub;
  if (registry === dockerHub && !rest.includes('/')) rest = `library/${rest}`;
  if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(rest)) throw new Error(`invalid reference format: repository name "${rest}" in "${ref}"`);
  if (tag !== undefined && !/^[\w][\w.-]{0,127}$/.test(tag)) throw new Error(`invalid reference format: tag "${tag}" in "${ref}"`);
  if (!tag && !digest) tag = 'latest';
  return { registry, repository: rest, tag, digest };
}

export function repositoryName(r: ImageReference): string { return `${r.registry}/${r.repository}`; }

/** The fully qualified string: "docker.io/library/busybox:latest" or "…@sha256:…". */
export function formatReference(r: ImageReference): string {
  return repositoryName(r) + (r.tag ? `:${r.tag}` : '') + (r.digest ? `@${r.digest}` : '');
}

export function normalizeReference(ref: string): string { return formatReference(parseReference(ref)); }
