// Serves the dashboard's static files (HTML, JS modules, CSS) under /dashboard/ on the API
// server itself. The files hold no cluster data: the page asks the user for a bearer token and
// then calls the ordinary Kubernetes API on the same origin, so every read and write it makes
// goes through authentication, RBAC and admission like kubectl's.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApiRequest, ApiResponse, NonResourceHandler } from '../apiserver/handler.js';

export const DASHBOARD_PATH = '/dashboard';

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

// The token lives in sessionStorage, so script injection is the threat that matters: only our
// own files may run, and the page may talk to nothing but this server.
const securityHeaders: Record<string, string> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

export interface DashboardHandlerOptions {
  /** Folder holding index.html and the rest; found next to the sources by default. */
  staticDir?: string;
}

/**
 * The static folder stays in src/ (there is no build step for the UI): from src/dashboard/ it is
 * ./static/, from the compiled dist/src/dashboard/ it is the same folder three levels up.
 */
export function defaultStaticDir(moduleUrl: string = import.meta.url): string {
  const candidates = [new URL('./static/', moduleUrl), new URL('../../../src/dashboard/static/', moduleUrl)];
  for (const candidate of candidates) {
    const dir = fileURLToPath(candidate);
    if (existsSync(resolve(dir, 'index.html'))) return resolve(dir);
  }
  throw new Error(`dashboard: static files not found (looked in ${candidates.map((c) => fileURLToPath(c)).join(', ')})`);
}

function notFound(): ApiResponse {
  // Kubernetes answers unknown non-resource paths with this exact text.
  return { status: 404, body: '404 page not found\n', contentType: 'text/plain; charset=utf-8', headers: { 'x-content-type-options': 'nosniff' } };
}

/** Maps the URL path below /dashboard/ to a file inside `root`, or undefined when it must not be served. */
export function resolveStaticPath(root: string, urlPath: string): string | undefined {
  let relative: string;
  try {
    relative = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (relative === '' || relative.endsWith('/')) relative += 'index.html';
  const segments = relative.split('/');
  // Refuse anything that could climb out of the folder or reach hidden files, before touching the disk.
  if (segments.some((s) => s === '' || s === '.' || s === '..' || s.startsWith('.') || s.includes('\\') || s.includes('\0'))) return undefined;
  const file = resolve(root, ...segments);
  if (!file.startsWith(root + sep)) return undefined;
  if (!contentTypes[extname(file)]) return undefined;
  return file;
}

export function dashboardHandler(options: DashboardHandlerOptions = {}): NonResourceHandler {
  const root = resolve(options.staticDir ?? defaultStaticDir());
  return async (request: ApiRequest): Promise<ApiResponse | undefined> => {
    const path = request.path;
    if (path !== DASHBOARD_PATH && !path.startsWith(`${DASHBOARD_PATH}/`)) return undefined;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return { status: 405, body: 'method not allowed\n', contentType: 'text/plain; charset=utf-8', headers: { allow: 'GET, HEAD' } };
    }
    if (path === DASHBOARD_PATH) {
      const query = request.query.toString();
      return { status: 301, body: '', contentType: 'text/plain; charset=utf-8', headers: { location: `${DASHBOARD_PATH}/${query ? `?${query}` : ''}` } };
    }
    const file = resolveStaticPath(root, path.slice(DASHBOARD_PATH.length + 1));
    if (!file) return notFound();
    let content: Buffer;
    try {
      if (!(await stat(file)).isFile()) return notFound();
      content = await readFile(file);
    } catch {
      return notFound();
    }
    const etag = `"${createHash('sha256').update(content).digest('base64url').slice(0, 27)}"`;
    const headers = { ...securityHeaders, etag };
    if (request.headers['if-none-match'] === etag) return { status: 304, body: '', headers };
    return { status: 200, body: content, contentType: contentTypes[extname(file)], headers };
  };
}
