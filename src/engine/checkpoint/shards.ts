/**
 * Sharded checkpoints: `model.safetensors.index.json` (or `pytorch_model.bin.index.json`) maps every tensor name to
 * the shard file that holds it. This module validates the index and assembles one TensorMap from the shards.
 */
import { counted } from '../util/words';
import { type TensorMap } from './types';
import { EngineError } from '../errors';

export interface ShardIndex {
  /** The index's free-form `metadata` object (usually `{total_size}`); empty when absent. */
  metadata: Record<string, unknown>;
  /** Tensor name → shard file name, in index order. */
  weightMap: Map<string, string>;
  /** Distinct shard file names in order of first appearance. */
  shardFiles: string[];
}

/**
 * Validates a shard index. `json` may be the file text or an already parsed value.
 * Shard names must be plain relative paths: they become URLs and file paths, so `..`, absolute paths and
 * backslashes are refused rather than resolved.
 */
export function parseShardIndex(json: unknown, fileName: string): ShardIndex {
  const fail = (code: string, what: string): never => {
    throw new EngineError(code, `${fileName}: ${what} Download the index file again or use the unsharded weights.`);
  };
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (error) {
      fail('SHARD_INDEX_NOT_JSON', `not valid JSON (${(error as Error).message}).`);
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    fail('SHARD_INDEX_NOT_JSON', 'not a JSON object.');
  const root = value as Record<string, unknown>;
  const rawMap = root.weight_map;
  if (rawMap === null || typeof rawMap !== 'object' || Array.isArray(rawMap)) {
    fail('SHARD_INDEX_BAD_WEIGHT_MAP', '"weight_map" is missing or not an object of tensor name → shard file.');
  }
  const weightMap = new Map<string, string>();
  // A Set keeps the first-use order without rescanning the list: an index may name thousands of shards.
  const shardFiles = new Set<string>();
  for (const [tensorName, shard] of Object.entries(rawMap as Record<string, unknown>)) {
    if (typeof shard !== 'string' || shard.length === 0) {
      fail('SHARD_INDEX_BAD_WEIGHT_MAP', `the shard for tensor "${tensorName}" is not a file name.`);
    }
    const file = shard as string;
    if (
      file.startsWith('/') ||
      file.includes('\\') ||
      file.split('/').some((part) => part === '..' || part === '' || part === '.')
    ) {
      fail(
        'SHARD_INDEX_BAD_WEIGHT_MAP',
        `shard file "${file}" (tensor "${tensorName}") is not a plain relative file name.`,
      );
    }
    weightMap.set(tensorName, file);
    shardFiles.add(file);
  }
  if (weightMap.size === 0) fail('SHARD_INDEX_BAD_WEIGHT_MAP', '"weight_map" is empty.');
  const metadata = root.metadata;
  return {
    metadata:
      metadata !== null && typeof metadata === 'object' && !Array.isArray(metadata)
        ? (metadata as Record<string, unknown>)
        : {},
    weightMap,
    shardFiles: [...shardFiles],
  };
}

export interface AssembledShards {
  tensors: TensorMap;
  warnings: string[];
}

/**
 * Reads every shard listed by `index` (one at a time, to bound peak memory), parses it with `parseShard` and checks
 * that each tensor sits in the shard the index names. `readShard` returns null for a missing file; `locate` turns a
 * shard name into a path or URL for error messages.
 */
export async function assembleShards(
  index: ShardIndex,
  indexFileName: string,
  readShard: (file: string) => Promise<Uint8Array | null>,
  parseShard: (bytes: Uint8Array, file: string) => TensorMap,
  locate: (file: string) => string = (file) => file,
): Promise<AssembledShards> {
  const tensors: TensorMap = new Map();
  const warnings: string[] = [];
  for (const file of index.shardFiles) {
    const bytes = await readShard(file);
    if (bytes === null) {
      throw new EngineError(
        'SHARD_FILE_MISSING',
        `${indexFileName} lists shard "${file}" but it was not found at ${locate(file)}. Make sure every shard was downloaded or dropped together with the index.`,
      );
    }
    for (const [name, tensor] of parseShard(bytes, file)) {
      const expectedShard = index.weightMap.get(name);
      if (expectedShard === undefined) {
        warnings.push(`${file}: tensor "${name}" is not listed in ${indexFileName}; it was loaded anyway.`);
      } else if (expectedShard !== file) {
        warnings.push(
          `${file}: tensor "${name}" is listed in ${indexFileName} under "${expectedShard}"; the copy in ${file} was used.`,
        );
      }
      if (tensors.has(name)) {
        throw new EngineError(
          'SHARD_DUPLICATE_TENSOR',
          `Tensor "${name}" appears in more than one shard (second copy in ${file}); the shards do not belong together.`,
        );
      }
      tensors.set(name, tensor);
    }
  }
  const missing = [...index.weightMap.keys()].filter((name) => !tensors.has(name));
  if (missing.length > 0) {
    const shown = missing
      .slice(0, 5)
      .map((name) => `"${name}" (in ${index.weightMap.get(name)})`)
      .join(', ');
    throw new EngineError(
      'SHARD_TENSOR_MISSING',
      `${indexFileName} lists ${counted(missing.length, 'tensor')} that no shard contains: ${shown}${missing.length > 5 ? ', …' : ''}. The shards are from a different revision than the index; download them again.`,
    );
  }
  return { tensors, warnings };
}
