/**
 * Fuzzing sharded checkpoints (src/engine/checkpoint/shards.ts): the index file on its own (mutated
 * JSON trees and text, random values, path-escaping shard names, very large indexes) and whole
 * sharded folders read through `loadCheckpointFiles`, with tensors moved, dropped, duplicated
 * across shards, shards missing or corrupted.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadCheckpointFiles } from '../../src/engine/checkpoint/load';
import { parseSafetensors, writeSafetensors } from '../../src/engine/checkpoint/safetensors';
import { assembleShards, parseShardIndex } from '../../src/engine/checkpoint/shards';
import { FIXTURE_DIR, bitsOf, expectedTensors } from '../../src/engine/checkpoint/test-fixtures';
import type { RawTensor } from '../../src/engine/checkpoint/types';
import {
  MINIMAL_CONFIG,
  MINIMAL_VOCAB,
  RUNS,
  applyByteEdits,
  byteEdit,
  interestingJson,
  memorySource,
  mutatedJson,
  runCase,
  runCaseAsync,
  utf8,
} from './support';

const INDEX = 'model.safetensors.index.json';

/** `arb` in about one case of eight, else undefined: several rare faults combine into ~half the cases. */
const sometimes = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: 7, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });

const shardName = fc.oneof(
  fc.integer({ min: 1, max: 9 }).map((i) => `model-0000${i}-of-00009.safetensors`),
  fc.constantFrom('a.safetensors', 'sub/dir/b.safetensors', 'ü.safetensors'),
);
/** Names a weight map must refuse: they would escape the folder or are not file names at all. */
const evilShardName = fc.constantFrom('../x.safetensors', '/etc/passwd', 'a\\b', 'a//b', './a', 'a/..', '', 'a/');

const tensorName = fc.oneof(
  fc.string({ minLength: 1, maxLength: 10 }),
  fc.constantFrom('bert.embeddings.word_embeddings.weight', '__proto__', 'constructor'),
);

/** A weight map (tensor → shard) as an object with own properties, whatever the names. */
function weightMapObject(entries: [string, string][]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const [name, shard] of entries)
    Object.defineProperty(map, name, { value: shard, enumerable: true, writable: true, configurable: true });
  return map;
}

const validIndex = fc
  .uniqueArray(fc.tuple(tensorName, shardName), { selector: ([name]) => name, minLength: 1, maxLength: 8 })
  .map((entries) => ({
    entries,
    json: { metadata: { total_size: 123 }, weight_map: weightMapObject(entries) },
  }));

function isPlainRelative(file: string): boolean {
  return (
    file.length > 0 &&
    !file.startsWith('/') &&
    !file.includes('\\') &&
    file.split('/').every((part) => part !== '' && part !== '.' && part !== '..')
  );
}

describe('fuzz: sharded checkpoints', () => {
  it('reads valid indexes exactly: the weight map, and shard files in order of first use', () => {
    fc.assert(
      fc.property(validIndex, fc.boolean(), ({ entries, json }, asText) => {
        const outcome = runCase(() => parseShardIndex(asText ? JSON.stringify(json) : json, INDEX));
        if (!outcome.ok) throw outcome.error;
        // The index's order is the JSON object's (integer-like names first, as JavaScript orders keys).
        const ordered = Object.entries(json.weight_map);
        expect(ordered.length).toBe(entries.length);
        expect([...outcome.value.weightMap]).toEqual(ordered);
        expect(outcome.value.shardFiles).toEqual([...new Set(ordered.map(([, shard]) => shard))]);
        expect(outcome.value.metadata).toEqual({ total_size: 123 });
      }),
      { numRuns: RUNS, seed: 0x5a4d_0001 },
    );
  });

  it('refuses mutated, random and path-escaping indexes with an EngineError, or reads them consistently', () => {
    const input: fc.Arbitrary<unknown> = fc.oneof(
      { weight: 4, arbitrary: validIndex.chain(({ json }) => mutatedJson(json)) },
      {
        weight: 2,
        arbitrary: validIndex.chain(({ json }) =>
          fc
            .array(byteEdit, { minLength: 1, maxLength: 4 })
            .map((edits) => new TextDecoder().decode(applyByteEdits(utf8(JSON.stringify(json)), edits))),
        ),
      },
      {
        weight: 1,
        arbitrary: fc
          .tuple(validIndex, tensorName, evilShardName)
          .map(([{ entries }, name, evil]) => ({ weight_map: weightMapObject([...entries, [name, evil]]) })),
      },
      { weight: 1, arbitrary: interestingJson },
      { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
    );
    fc.assert(
      fc.property(input, (json) => {
        const outcome = runCase(() => parseShardIndex(json, INDEX));
        if (!outcome.ok) return;
        const { weightMap, shardFiles } = outcome.value;
        expect(weightMap.size).toBeGreaterThan(0);
        for (const file of weightMap.values()) expect(isPlainRelative(file), file).toBe(true);
        expect(shardFiles).toEqual([...new Set(weightMap.values())]);
      }),
      { numRuns: RUNS, seed: 0x5a4d_0002 },
    );
  });

  it('reads very large indexes (tens of thousands of shards) in linear time', () => {
    const size = fc.oneof(
      // A few large ones: a quadratic scan of 40k+ shard names takes seconds.
      { weight: 29, arbitrary: fc.integer({ min: 1, max: 200 }) },
      { weight: 1, arbitrary: fc.integer({ min: 40_000, max: 60_000 }) },
    );
    fc.assert(
      fc.property(size, fc.integer({ min: 1, max: 3 }), (count, tensorsPerShard) => {
        const entries: [string, string][] = [];
        for (let i = 0; i < count; i++) entries.push([`t${i}`, `s${Math.floor(i / tensorsPerShard)}.safetensors`]);
        const text = JSON.stringify({ weight_map: Object.fromEntries(entries) });
        const outcome = runCase(() => parseShardIndex(text, INDEX), text.length);
        if (!outcome.ok) throw outcome.error;
        expect(outcome.value.shardFiles.length).toBe(Math.ceil(count / tensorsPerShard));
      }),
      { numRuns: RUNS, seed: 0x5a4d_0003 },
    );
  });

  it('assembles sharded folders exactly, or refuses moved, missing, duplicated and corrupt shards', async () => {
    const folder = fc
      .uniqueArray(
        fc.record({
          name: tensorName,
          shard: fc.integer({ min: 0, max: 2 }),
          data: fc.float32Array({ maxLength: 4 }),
        }),
        { selector: (t) => t.name, minLength: 1, maxLength: 6 },
      )
      .chain((tensors) =>
        fc.record({
          tensors: fc.constant(tensors),
          // What goes wrong (each independently): an index entry moved to another shard or
          // dropped, a phantom entry, a tensor written to two shards, a shard missing or corrupt.
          moved: sometimes(fc.nat()),
          dropped: sometimes(fc.nat()),
          phantom: sometimes(fc.constant(true)).map((b) => b === true),
          duplicated: sometimes(fc.nat()),
          missing: sometimes(fc.nat()),
          corrupt: sometimes(fc.tuple(fc.nat(), fc.array(byteEdit, { minLength: 1, maxLength: 3 }))),
        }),
      );
    await fc.assert(
      fc.asyncProperty(folder, async (f) => {
        const shardOf = (i: number) => `model-0000${f.tensors[i].shard + 1}-of-00003.safetensors`;
        const contents = new Map<string, RawTensor[]>();
        f.tensors.forEach((t, i) => {
          const list = contents.get(shardOf(i)) ?? [];
          list.push({ name: t.name, shape: [t.data.length], data: t.data });
          contents.set(shardOf(i), list);
        });
        const entries: [string, string][] = f.tensors.map((t, i) => [t.name, shardOf(i)]);
        const files = [...contents.keys()];
        if (f.moved !== undefined) entries[f.moved % entries.length][1] = files[(f.moved + 1) % files.length];
        if (f.dropped !== undefined && entries.length > 1) entries.splice(f.dropped % entries.length, 1);
        if (f.phantom) entries.push(['phantom.weight', files[0]]);
        if (f.duplicated !== undefined && files.length > 1) {
          const t = f.tensors[f.duplicated % f.tensors.length];
          const other = files.find((file) => !contents.get(file)!.some((u) => u.name === t.name))!;
          contents.get(other)!.push({ name: t.name, shape: [t.data.length], data: t.data });
        }
        const folderFiles: Record<string, Uint8Array> = {
          'config.json': utf8(JSON.stringify(MINIMAL_CONFIG)),
          'vocab.txt': utf8(MINIMAL_VOCAB),
          [INDEX]: utf8(JSON.stringify({ metadata: {}, weight_map: weightMapObject(entries) })),
        };
        for (const [file, list] of contents) folderFiles[file] = writeSafetensors(list, { dtype: 'F32' });
        if (f.missing !== undefined) delete folderFiles[files[f.missing % files.length]];
        if (f.corrupt !== undefined) {
          const file = files[f.corrupt[0] % files.length];
          if (folderFiles[file]) folderFiles[file] = applyByteEdits(folderFiles[file], f.corrupt[1]);
        }
        const size = Object.values(folderFiles).reduce((n, b) => n + b.length, 0);
        const outcome = await runCaseAsync(() => loadCheckpointFiles(memorySource(folderFiles)), size);
        const untouched =
          f.moved === undefined &&
          f.dropped === undefined &&
          !f.phantom &&
          (f.duplicated === undefined || files.length === 1) &&
          f.missing === undefined &&
          f.corrupt === undefined;
        if (untouched) {
          expect(outcome.ok).toBe(true);
          if (outcome.ok) expect(outcome.value.warnings).toEqual([]);
        }
        if (!outcome.ok) return;
        // Whatever was accepted holds everything the index lists, and each tensor exactly as written
        // (unless its bytes were corrupted: safetensors has no checksum, so that goes unnoticed).
        const { tensors } = outcome.value;
        for (const t of f.tensors) {
          if (!tensors.has(t.name) || f.corrupt !== undefined) continue;
          expect(bitsOf(tensors.get(t.name)!.data)).toEqual(bitsOf(t.data));
        }
        for (const [name] of entries) expect(tensors.has(name), name).toBe(true);
      }),
      { numRuns: RUNS, seed: 0x5a4d_0004 },
    );
  });

  it('still assembles the python shards exactly after the fuzzing (no state left behind)', async () => {
    const text = readFileSync(`${FIXTURE_DIR}sharded/${INDEX}`, 'utf8');
    const index = parseShardIndex(text, INDEX);
    const { tensors } = await assembleShards(
      index,
      INDEX,
      async (file) => new Uint8Array(readFileSync(`${FIXTURE_DIR}sharded/${file}`)),
      (bytes, file) => parseSafetensors(bytes, file).tensors,
    );
    for (const [name, want] of expectedTensors('sharded')) expect(bitsOf(tensors.get(name)!.data)).toEqual(want.bits);
  });
});
