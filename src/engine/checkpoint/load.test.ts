import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import { createFileListSource, type DroppedFile } from './file-list-source';
import { exportFolder, zipFolder } from './export';
import { loadCheckpointFiles } from './load';
import { createNodeDirSource, writeFolder } from './node-dir';
import { parseSafetensors } from './safetensors';
import type { CheckpointSource } from './source';
import {
  FIXTURE_DIR,
  GOLDEN_MICRO_DIR,
  bitsOf,
  expectCodeAsync,
  expectedTensors,
  fixtureBytes,
  fixtureExists,
  sameBytes,
} from './test-fixtures';
import type { TensorMap } from './types';

/** An in-memory folder as a source, optionally without a listing (like HTTP), counting reads. */
function memorySource(
  files: Record<string, Uint8Array | string>,
  listable = true,
): CheckpointSource & { reads: string[] } {
  const reads: string[] = [];
  const bytesOf = (v: Uint8Array | string) => (typeof v === 'string' ? new TextEncoder().encode(v) : v);
  return {
    description: 'test folder',
    reads,
    list: async () => (listable ? Object.keys(files) : null),
    read: async (name) => {
      reads.push(name);
      return name in files ? bytesOf(files[name]) : null;
    },
    locate: (name) => `mem://${name}`,
  };
}

/** A browser-like dropped file. */
function dropped(path: string, bytes: Uint8Array): DroppedFile {
  return {
    name: path.split('/').pop()!,
    size: bytes.byteLength,
    webkitRelativePath: path,
    arrayBuffer: async () => bytes.slice().buffer,
  };
}

function expectSameTensors(actual: TensorMap, expected: TensorMap): void {
  expect([...actual.keys()]).toEqual([...expected.keys()]);
  for (const [name, tensor] of expected) {
    expect(actual.get(name)!.shape, name).toEqual(tensor.shape);
    expect(sameBytes(actual.get(name)!.data, tensor.data), name).toBe(true);
  }
}

const CONFIG = JSON.stringify({ model_type: 'bert', hidden_size: 4 });
const temporaryDirs: string[] = [];
afterEach(() => {
  for (const dir of temporaryDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('loadCheckpointFiles', () => {
  it('loads the sharded python fixture from a Node directory', async () => {
    const loaded = await loadCheckpointFiles(createNodeDirSource(`${FIXTURE_DIR}sharded`));
    expect(loaded.weightFormat).toBe('safetensors-sharded');
    expect(loaded.weightFiles).toEqual([
      'model.safetensors.index.json',
      'model-00001-of-00002.safetensors',
      'model-00002-of-00002.safetensors',
    ]);
    expect(loaded.configJson.model_type).toBe('bert');
    expect(loaded.vocabTxt?.split('\n')[0]).toBe('[PAD]');
    expect(loaded.weightMetadata).toEqual({ format: 'pt' });
    for (const [name, want] of expectedTensors('sharded'))
      expect(bitsOf(loaded.tensors.get(name)!.data)).toEqual(want.bits);
    expect(loaded.warnings).toEqual([]);
  });

  it('loads dropped browser files by base name, preferring the shallowest copy', async () => {
    const source = createFileListSource([
      dropped('my-model/checkpoint-10/config.json', new TextEncoder().encode('{"stale": true}')),
      dropped('my-model/config.json', new TextEncoder().encode(CONFIG)),
      dropped('my-model/pytorch_model.bin', fixtureBytes('pytorch_model.bin')),
      dropped('my-model/tokenizer_config.json', new TextEncoder().encode('{"do_lower_case": true}')),
    ]);
    const loaded = await loadCheckpointFiles(source);
    expect(loaded.configJson).toEqual(JSON.parse(CONFIG));
    expect(loaded.weightFormat).toBe('pytorch-bin');
    expect(loaded.tokenizerConfig).toEqual({ do_lower_case: true });
    expect(loaded.tensors.size).toBe(expectedTensors('pytorch_model.bin').size);
    expect(loaded.warnings.join()).toContain('vocab.txt');
  });

  it('refuses two same-named dropped files at the same depth', async () => {
    const source = createFileListSource([
      dropped('a/config.json', new Uint8Array(2)),
      dropped('b/config.json', new Uint8Array(2)),
    ]);
    await expectCodeAsync(loadCheckpointFiles(source), 'CHECKPOINT_AMBIGUOUS_FILE', 'a/config.json', 'b/config.json');
  });

  it('prefers model.safetensors over pytorch_model.bin and never reads the .bin', async () => {
    const source = memorySource({
      'config.json': CONFIG,
      'model.safetensors': fixtureBytes('model_f16.safetensors'),
      'pytorch_model.bin': fixtureBytes('pytorch_model.bin'),
    });
    const loaded = await loadCheckpointFiles(source);
    expect(loaded.weightFormat).toBe('safetensors');
    expect(source.reads).not.toContain('pytorch_model.bin');
  });

  it('probes without a listing and stops at the first weights found', async () => {
    const source = memorySource(
      { 'config.json': CONFIG, 'pytorch_model.bin': fixtureBytes('pytorch_model.bin') },
      false,
    );
    const loaded = await loadCheckpointFiles(source);
    expect(loaded.weightFormat).toBe('pytorch-bin');
    expect(source.reads.slice(-3)).toEqual(['model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin']);
  });

  it('names every weight file it looked for when there are none', async () => {
    await expectCodeAsync(
      loadCheckpointFiles(memorySource({ 'config.json': CONFIG, 'tf_model.h5': 'x' })),
      'CHECKPOINT_MISSING_WEIGHTS',
      'model.safetensors, model.safetensors.index.json, pytorch_model.bin',
      'tf_model.h5',
      'mem://model.safetensors',
    );
  });

  it('requires config.json and valid JSON side files', async () => {
    await expectCodeAsync(
      loadCheckpointFiles(memorySource({ 'model.safetensors': fixtureBytes('model_f32.safetensors') })),
      'CHECKPOINT_FILE_NOT_FOUND',
      'config.json',
      'mem://config.json',
    );
    await expectCodeAsync(
      loadCheckpointFiles(memorySource({ 'config.json': '{oops' })),
      'CHECKPOINT_BAD_JSON',
      'config.json',
    );
    await expectCodeAsync(
      loadCheckpointFiles(memorySource({ 'config.json': '[]' })),
      'CHECKPOINT_BAD_JSON',
      'config.json',
    );
    await expectCodeAsync(
      loadCheckpointFiles(
        memorySource({
          'config.json': CONFIG,
          'vocab.txt': new Uint8Array([0xff, 0xfe, 0x00]),
          'model.safetensors': fixtureBytes('model_f32.safetensors'),
        }),
      ),
      'CHECKPOINT_BAD_TEXT',
      'vocab.txt',
    );
  });

  it('refuses a Node directory shard name that escapes the folder', async () => {
    const source = createNodeDirSource(`${FIXTURE_DIR}sharded`);
    await expectCodeAsync(source.read('../pytorch_model.bin'), 'CHECKPOINT_BAD_FILE_NAME');
  });
});

describe('exportFolder', () => {
  const base = parseSafetensors(fixtureBytes('model_f32.safetensors')).tensors;
  const exportOptions = {
    config: { model_type: 'bert', hidden_size: 4 },
    vocabTxt: '[PAD]\n[UNK]\n',
    tokenizerConfig: { do_lower_case: true },
    specialTokensMap: { unk_token: '[UNK]' },
    tensors: base,
  };

  it('exports an HF folder that imports back bit-exactly in F32 (through writeFolder and a Node directory)', async () => {
    const files = exportFolder({ ...exportOptions, dtype: 'F32' });
    expect([...files.keys()].sort()).toEqual([
      'config.json',
      'model.safetensors',
      'special_tokens_map.json',
      'tokenizer_config.json',
      'vocab.txt',
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'fewshot-export-'));
    temporaryDirs.push(dir);
    await writeFolder(dir, files);
    expect(readdirSync(dir).sort()).toEqual([...files.keys()].sort()); // no .partial leftovers
    const loaded = await loadCheckpointFiles(createNodeDirSource(dir));
    expectSameTensors(loaded.tensors, base);
    expect(loaded.configJson).toEqual({ model_type: 'bert', hidden_size: 4, torch_dtype: 'float32' });
    expect(loaded.weightMetadata.format).toBe('pt');
    expect(loaded.vocabTxt).toBe(exportOptions.vocabTxt);
    expect(loaded.specialTokensMap).toEqual(exportOptions.specialTokensMap);
    expect(readFileSync(join(dir, 'config.json'), 'utf8').endsWith('}\n')).toBe(true);
  });

  it("exports F16 that matches python's float16 conversion of the same tensors", () => {
    const files = exportFolder({ ...exportOptions, dtype: 'F16' });
    const back = parseSafetensors(files.get('model.safetensors')!).tensors;
    for (const [name, want] of expectedTensors('model_f16.safetensors'))
      expect(bitsOf(back.get(name)!.data), name).toEqual(want.bits);
    expect(JSON.parse(new TextDecoder().decode(files.get('config.json')!)).torch_dtype).toBe('float16');
  });

  it('zips the folder under a directory name and the zip unpacks to the same bytes', async () => {
    const files = exportFolder({ ...exportOptions, dtype: 'F32' });
    const unzipped = unzipSync(zipFolder(files, 'my-model'));
    expect(Object.keys(unzipped).sort()).toEqual([...files.keys()].map((f) => `my-model/${f}`).sort());
    for (const [name, bytes] of files) expect(sameBytes(unzipped[`my-model/${name}`], bytes), name).toBe(true);
    const dropped2 = Object.entries(unzipped).map(([path, bytes]) => dropped(path, bytes));
    expectSameTensors((await loadCheckpointFiles(createFileListSource(dropped2))).tensors, base);
  });
});

describe.skipIf(!fixtureExists(GOLDEN_MICRO_DIR, 'model/pytorch_model.bin'))('golden-micro checkpoint', () => {
  it('model.safetensors and pytorch_model.bin parse to identical tensors', async () => {
    const fromSafetensors = await loadCheckpointFiles(createNodeDirSource(`${GOLDEN_MICRO_DIR}model`));
    expect(fromSafetensors.weightFormat).toBe('safetensors');
    const binBytes = new Uint8Array(readFileSync(`${GOLDEN_MICRO_DIR}model/pytorch_model.bin`));
    const { parsePytorchBin } = await import('./pytorch-bin');
    const fromBin = parsePytorchBin(binBytes);
    expect(fromBin.size).toBeGreaterThan(10);
    const sortedBin: TensorMap = new Map([...fromSafetensors.tensors.keys()].map((name) => [name, fromBin.get(name)!]));
    expect([...fromBin.keys()].sort()).toEqual([...fromSafetensors.tensors.keys()].sort());
    expectSameTensors(sortedBin, fromSafetensors.tensors);
  });
});
