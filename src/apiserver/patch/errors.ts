// One error type for every patch engine, so the REST handler can turn it into a Kubernetes
// Status without knowing which engine failed.

/** HTTP status the API server answers with; 400 for a malformed patch, 422 for a patch that
 *  is well formed but cannot apply to this object (Kubernetes' choice for JSON patch failures). */
export type PatchErrorCode = 400 | 409 | 415 | 422;

export class PatchError extends Error {
  readonly code: PatchErrorCode;
  constructor(message: string, code: PatchErrorCode = 422) {
    super(message);
    this.name = 'PatchError';
    this.code = code;
  }
}
