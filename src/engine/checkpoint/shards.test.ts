import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSafetensors, writeSafetensors } from './safetensors';
import { assembleShards, parseShardIndex } from './shards';
import { FIXTURE_DIR, bitsOf, expectCode, expectCodeAsync, expectedTensors } from './test-fixtures';
import type { TensorMap } from './types';

const INDEX = 'model.safetensors.index.json';
const readFixtureShard = async (file: string) => new Uint8Array(readFileSync(`${FIXTURE_DIR}sharded/${file}`));
const parseShard = (bytes: Uint8Array, file: string): TensorMap => parseSafetensors(bytes, file).tensors;

describe('parseShardIndex', () => {
  it('reads the index written by python', () => {
    const index = parseShardIndex(readFileSync(`${FIXTURE_DIR}sharded/${INDEX}`, 'utf8'), INDEX);
    expect(index.shardFiles).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    expect(index.weightMap.get('bert.embeddings.word_embeddings.weight')).toBe('model-00001-of-00002.safetensors');
    expect(typeof index.metadata.total_size).toBe('number');
  });

  it('rejects broken indexes with the file named', () => {
    expectCode(() => parseShardIndex('{', 'i.json'), 'SHARD_INDEX_NOT_JSON', 'i.json');
    expectCode(() => parseShardIndex([], 'i.json'), 'SHARD_INDEX_NOT_JSON');
    expectCode(() => parseShardIndex({ metadata: {} }, 'i.json'), 'SHARD_INDEX_BAD_WEIGHT_MAP', 'weight_map');
    expectCode(() => parseShardIndex({ weight_map: {} }, 'i.json'), 'SHARD_INDEX_BAD_WEIGHT_MAP', 'empty');
    expectCode(() => parseShardIndex({ weight_map: { a: 3 } }, 'i.json'), 'SHARD_INDEX_BAD_WEIGHT_MAP', '"a"');
    for (const evil of ['../secrets.safetensors', '/etc/passwd', 'a\\b.safetensors', 'x//y']) {
      expectCode(() => parseShardIndex({ weight_map: { a: evil } }, 'i.json'), 'SHARD_INDEX_BAD_WEIGHT_MAP', evil);
    }
  });
});

describe('assembleShards', () => {
  it('assembles the python shards into the original tensors', async () => {
    const index = parseShardIndex(readFileSync(`${FIXTURE_DIR}sharded/${INDEX}`, 'utf8'), INDEX);
    const { tensors, warnings } = await assembleShards(index, INDEX, readFixtureShard, parseShard);
    expect(warnings).toEqual([]);
    const expected = expectedTensors('sharded');
    expect([...tensors.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [name, want] of expected) expect(bitsOf(tensors.get(name)!.data)).toEqual(want.bits);
  });

  const shard = (...names: string[]) =>
    writeSafetensors(
      names.map((name) => ({ name, shape: [1], data: Float32Array.from([1]) })),
      { dtype: 'F32' },
    );

  it('names a missing shard and where it was looked for', async () => {
    const index = parseShardIndex({ weight_map: { a: 's1', b: 's2' } }, INDEX);
    await expectCodeAsync(
      assembleShards(
        index,
        INDEX,
        async (f) => (f === 's1' ? shard('a') : null),
        parseShard,
        (f) => `https://hub/x/${f}`,
      ),
      'SHARD_FILE_MISSING',
      '"s2"',
      'https://hub/x/s2',
    );
  });

  it('names tensors the index promises but no shard holds, and warns about extras', async () => {
    const index = parseShardIndex({ weight_map: { a: 's1', b: 's1' } }, INDEX);
    await expectCodeAsync(
      assembleShards(index, INDEX, async () => shard('a'), parseShard),
      'SHARD_TENSOR_MISSING',
      '"b"',
    );
    const extra = await assembleShards(
      parseShardIndex({ weight_map: { a: 's1' } }, INDEX),
      INDEX,
      async () => shard('a', 'z'),
      parseShard,
    );
    expect(extra.tensors.has('z')).toBe(true);
    expect(extra.warnings.join()).toContain('"z"');
  });

  it('rejects a tensor present in two shards', async () => {
    const index = parseShardIndex({ weight_map: { a: 's1', b: 's2' } }, INDEX);
    await expectCodeAsync(
      assembleShards(index, INDEX, async (f) => (f === 's1' ? shard('a') : shard('a', 'b')), parseShard),
      'SHARD_DUPLICATE_TENSOR',
      '"a"',
    );
  });
});
