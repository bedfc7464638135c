// API errors as Kubernetes reports them: a meta/v1 Status with a reason and an HTTP code.
// Callers branch on the reason (isNotFound, isConflict, ...) exactly as client-go's
// apimachinery/pkg/api/errors helpers do, never on message text.

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  apiVersion?: 'v1';
  kind?: 'Status';
  metadata?: Record<string, unknown>;
  status?: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code?: number;
}

/** Reason strings of meta/v1 StatusReason. */
export const StatusReason = {
  NotFound: 'NotFound',
  AlreadyExists: 'AlreadyExists',
  Conflict: 'Conflict',
  Invalid: 'Invalid',
  BadRequest: 'BadRequest',
  Unauthorized: 'Unauthorized',
  Forbidden: 'Forbidden',
  MethodNotAllowed: 'MethodNotAllowed',
  Gone: 'Gone',
  Expired: 'Expired',
  TooManyRequests: 'TooManyRequests',
  InternalError: 'InternalError',
  Timeout: 'Timeout',
  ServerTimeout: 'ServerTimeout',
  ServiceUnavailable: 'ServiceUnavailable',
  UnsupportedMediaType: 'UnsupportedMediaType',
  NotAcceptable: 'NotAcceptable',
  RequestEntityTooLarge: 'RequestEntityTooLarge',
  Unknown: '',
} as const;

/** Reason implied by a bare HTTP code, used when the server sent no Status body. */
function reasonForCode(code: number): string {
  switch (code) {
    case 400: return StatusReason.BadRequest;
    case 401: return StatusReason.Unauthorized;
    case 403: return StatusReason.Forbidden;
    case 404: return StatusReason.NotFound;
    case 405: return StatusReason.MethodNotAllowed;
    case 406: return StatusReason.NotAcceptable;
    case 409: return StatusReason.Conflict;
    case 410: return StatusReason.Gone;
    case 413: return StatusReason.RequestEntityTooLarge;
    case 415: return StatusReason.UnsupportedMediaType;
    case 422: return StatusReason.Invalid;
    case 429: return StatusReason.TooManyRequests;
    case 500: return StatusReason.InternalError;
    case 503: return StatusReason.ServiceUnavailable;
    case 504: return StatusReason.Timeout;
    default: return StatusReason.Unknown;
  }
}

export class ApiError extends Error {
  readonly status: Status;

  constructor(status: Status) {
    super(status.message || `the server responded with status ${status.code ?? 'unknown'}`);
    this.name = 'ApiError';
    this.status = status;
  }

  get code(): number {
    return this.status.code ?? 0;
  }

  get reason(): string {
    return this.status.reason ?? '';
  }

  get details(): StatusDetails | undefined {
    return this.status.details;
  }

  /** Builds the error for a non-2xx response, keeping the server's Status when it sent one. */
  static fromResponse(code: number, body: unknown): ApiError {
    if (body && typeof body === 'object' && (body as Status).kind === 'Status') {
      const status = body as Status;
      return new ApiError({ ...status, code: status.code || code, reason: status.reason || reasonForCode(code) });
    }
    const text = typeof body === 'string' && body.trim() ? body.trim() : undefined;
    return new ApiError({
      apiVersion: 'v1',
      kind: 'Status',
      status: 'Failure',
      code,
      reason: reasonForCode(code),
      message: text ?? `the server responded with status ${code}`,
    });
  }
}

function reasonOf(err: unknown): string | undefined {
  return err instanceof ApiError ? err.reason : undefined;
}

function codeOf(err: unknown): number | undefined {
  return err instanceof ApiError ? err.code : undefined;
}

export function isNotFound(err: unknown): boolean {
  return reasonOf(err) === StatusReason.NotFound || (reasonOf(err) === '' && codeOf(err) === 404);
}

export function isAlreadyExists(err: unknown): boolean {
  return reasonOf(err) === StatusReason.AlreadyExists;
}

/** A resourceVersion precondition failed: re-read and retry. */
export function isConflict(err: unknown): boolean {
  return reasonOf(err) === StatusReason.Conflict || (reasonOf(err) === '' && codeOf(err) === 409);
}

/** The requested resourceVersion has been compacted away (410): relist. */
export function isGone(err: unknown): boolean {
  return reasonOf(err) === StatusReason.Gone || reasonOf(err) === StatusReason.Expired || codeOf(err) === 410;
}

/** Alias of isGone named after the StatusReasonExpired used for expired continue tokens and watches. */
export const isResourceExpired = isGone;

export function isTooManyRequests(err: unknown): boolean {
  return reasonOf(err) === StatusReason.TooManyRequests || codeOf(err) === 429;
}

export function isInvalid(err: unknown): boolean {
  return reasonOf(err) === StatusReason.Invalid;
}

export function isForbidden(err: unknown): boolean {
  return reasonOf(err) === StatusReason.Forbidden;
}

export function isUnauthorized(err: unknown): boolean {
  return reasonOf(err) === StatusReason.Unauthorized;
}

export function isBadRequest(err: unknown): boolean {
  return reasonOf(err) === StatusReason.BadRequest;
}

export function isMethodNotAllowed(err: unknown): boolean {
  return reasonOf(err) === StatusReason.MethodNotAllowed;
}

export function isInternalError(err: unknown): boolean {
  return reasonOf(err) === StatusReason.InternalError;
}

/** Seconds the server asked us to wait (429/503 with details.retryAfterSeconds), if any. */
export function retryAfterSeconds(err: unknown): number | undefined {
  return err instanceof ApiError ? err.details?.retryAfterSeconds : undefined;
}
