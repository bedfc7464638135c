// Test-only helpers: an ImageService over a set of image names (the fake and process
// runtimes have no image store), so pull policies can be exercised. Never wired into a
// shipped component.
import type { AuthConfig, Image, ImageService, FilesystemUsage } from '../runtime/types.js';
import { withImageService } from '../runtime/with-image-service.js';

export class TestImageService implements ImageService {
  readonly pulls: string[] = [];
  constructor(readonly present = new Set<string>(), readonly unpullable = new Set<string>()) {}
  async listImages(): Promise<Image[]> {
    return [...this.present].map((ref) => this.image(ref));
  }
  private image(ref: string): Image {
    return { id: `sha256:${Buffer.from(ref).toString('hex').padEnd(64, '0').slice(0, 64)}`, repoTags: [ref], repoDigests: [], size: 1234 };
  }
  async imageStatus(ref: string): Promise<Image | null> {
    return this.present.has(ref) ? this.image(ref) : null;
  }
  async pullImage(ref: string, _auth?: AuthConfig): Promise<string> {
    this.pulls.push(ref);
    if (this.unpullable.has(ref)) throw new Error(`rpc error: code = NotFound desc = failed to resolve reference "${ref}": not found`);
    this.present.add(ref);
    return this.image(ref).id;
  }
  async removeImage(ref: string): Promise<void> {
    this.present.delete(ref);
  }
  async imageFsInfo(): Promise<FilesystemUsage[]> {
    return [];
  }
}

/** Joins a RuntimeService and an ImageService into what the kubelet takes. */
export const withImages = withImageService;
