/** Node-only helpers for the pipeline: load a model from a directory, write an export to disk. */
import { basename, resolve } from 'node:path';
import { loadCheckpointFiles } from '../checkpoint';
import { createNodeDirSource, writeFolder } from '../checkpoint/node-dir';
import { FewShotModel } from './fewshot-model';

export async function loadModelFromDir(dir: string, options: { seed?: number } = {}): Promise<FewShotModel> {
  const absolute = resolve(dir);
  const files = await loadCheckpointFiles(createNodeDirSource(absolute));
  return FewShotModel.fromCheckpoint(files, { name: basename(absolute), source: absolute, seed: options.seed });
}

export async function saveModelToDir(
  model: FewShotModel,
  dir: string,
  options: { dtype?: 'F32' | 'F16'; extraFiles?: Map<string, Uint8Array> } = {},
): Promise<void> {
  const files = await model.exportFiles({ dtype: options.dtype });
  for (const [name, bytes] of options.extraFiles ?? []) files.set(name, bytes);
  await writeFolder(dir, files);
}
