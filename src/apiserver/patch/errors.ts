// One error type for every patch engine, carrying the Status Kubernetes answers with, so the REST
// handler can reply without knowing which engine failed.

export type PatchErrorReason = 'BadRequest' | 'Invalid' | 'RequestEntityTooLarge' | 'Conflict' | 'UnsupportedMediaType' | 'Unknown';

const reasonByCode: Record<number, PatchErrorReason> = {
  400: 'BadRequest',
  409: 'Conflict',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  500: 'Unknown',
};

/** `message` is the precise cause (for logs and tests). `statusMessage` is what Kubernetes puts in
 *  the Status: for a JSON patch that does not apply it answers 422 with only a generic sentence,
 *  and clients (kubectl, retry loops) match on that sentence, so we answer the same. */
export class PatchError extends Error {
  readonly code: number;
  readonly reason: PatchErrorReason;
  readonly statusMessage: string;

  constructor(message: string, code = 500, statusMessage?: string) {
    super(message);
    this.name = 'PatchError';
    this.code = code;
    this.reason = reasonByCode[code] ?? 'Unknown';
    this.statusMessage = statusMessage ?? message;
  }

  /** The meta.k8s.io/v1 Status body for this failure. */
  toStatus(): Record<string, unknown> {
    const status: Record<string, unknown> = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.statusMessage,
      reason: this.reason,
      code: this.code,
    };
    if (this.code === 422) status.details = {};
    return status;
  }
}

/** Kubernetes' message for a 422 raised as a generic server response. */
export const invalidRequestMessage = 'the server rejected our request due to an error in our request';

/** A patch that is well formed but cannot be applied to this object (422, generic Status message). */
export function patchNotApplicable(message: string): PatchError {
  return new PatchError(message, 422, invalidRequestMessage);
}
