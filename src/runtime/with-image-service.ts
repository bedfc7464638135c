// The kubelet takes one object that is both the RuntimeService and the ImageService (as a CRI
// endpoint is); runtimes and image stores are separate objects here, joined by this.
import type { ImageService, RuntimeService } from './types.js';

export function withImageService<R extends RuntimeService>(runtime: R, images: ImageService): R & ImageService {
  return new Proxy(runtime, {
    get(target, prop, receiver) {
      if (prop in images && !(prop in target)) {
        const value = (images as unknown as Record<string | symbol, unknown>)[prop];
        return typeof value === 'function' ? value.bind(images) : value;
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as R & ImageService;
}
