/**
 * A checkpoint dropped into the browser as a list of `File`s (a folder drop or a multi-file picker).
 * Files are matched by base name; `webkitRelativePath` (set for folder drops) only breaks ties, preferring the
 * shallowest copy, so that dropping a parent folder still finds the model at its top level. A name with a folder
 * (`1_Pooling/config.json`) is matched against the end of `webkitRelativePath`.
 */
import type { CheckpointSource, ProgressListener } from './source';
import { EngineError } from '../errors';

/** The part of the DOM `File` interface this source needs (Node ≥ 20 has a compatible global `File`). */
export interface DroppedFile {
  readonly name: string;
  readonly size: number;
  /** Path inside the dropped folder, e.g. `bert-tiny/config.json`; empty or absent for single files. */
  readonly webkitRelativePath?: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}

function depthOf(file: DroppedFile): number {
  const path = file.webkitRelativePath ?? '';
  return path === '' ? 0 : path.split('/').length - 1;
}

export function createFileListSource(files: Iterable<DroppedFile> | ArrayLike<DroppedFile>): CheckpointSource {
  const byName = new Map<string, DroppedFile[]>();
  for (const file of Array.from(files as ArrayLike<DroppedFile>)) {
    const list = byName.get(file.name) ?? [];
    list.push(file);
    byName.set(file.name, list);
  }
  const pick = (name: string): DroppedFile | null => {
    // Names inside a checkpoint are base names (shard names never contain folders on the Hub), except the module
    // folders of a sentence-transformers model (`1_Pooling/config.json`): those must match the end of the path.
    const baseName = name.split('/').pop() ?? name;
    const nested = name.includes('/');
    const candidates = (byName.get(baseName) ?? [])
      .filter((f) => !nested || f.webkitRelativePath === name || (f.webkitRelativePath ?? '').endsWith(`/${name}`))
      .sort((a, b) => depthOf(a) - depthOf(b));
    if (candidates.length === 0) return null;
    if (candidates.length > 1 && depthOf(candidates[0]) === depthOf(candidates[1])) {
      throw new EngineError(
        'CHECKPOINT_AMBIGUOUS_FILE',
        `Two dropped files are named ${baseName} (${candidates[0].webkitRelativePath || candidates[0].name} and ${candidates[1].webkitRelativePath || candidates[1].name}); drop only the one model folder.`,
      );
    }
    return candidates[0];
  };
  return {
    description: 'the dropped files',
    async list() {
      return [...byName.keys()];
    },
    async read(name: string, onProgress?: ProgressListener) {
      const file = pick(name);
      if (file === null) return null;
      const bytes = new Uint8Array(await file.arrayBuffer());
      onProgress?.({ file: name, loaded: bytes.byteLength, total: bytes.byteLength });
      return bytes;
    },
    locate(name: string) {
      const file = pick(name);
      return file === null ? `${name} among the dropped files` : file.webkitRelativePath || file.name;
    },
  };
}
