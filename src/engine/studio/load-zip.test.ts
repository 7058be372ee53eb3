import { zipSync, type Zippable } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectCodeAsync } from '../checkpoint/test-fixtures';
import { initNodeBackend } from '../tf/node';
import { exportBundle } from './export';
import type { FewShotModel } from './fewshot-model';
import { loadModel } from './load';
import { loadModelFromDir } from './node';

const GOLDEN_DIR = 'tests/fixtures/golden-micro/model';
const TEXTS = [{ text: 'the cat sat on the mat .' }, { text: 'a dog ran', textPair: 'the cat sat' }];
const README = new TextEncoder().encode('# micro\n');

let model: FewShotModel;
beforeAll(async () => {
  await initNodeBackend('wasm');
  model = await loadModelFromDir(GOLDEN_DIR);
});
afterAll(() => model.dispose());

/** Loads a zip through the door exactly as the Model panel's drop does: one file in a `files` source. */
function loadZip(bytes: Uint8Array, name = 'micro-fewshot.zip') {
  return loadModel({ kind: 'files', files: [new File([bytes.slice()], name)], name: 'micro' });
}

/** Offset of `path`'s central directory record (the zip's own index, which fflate trusts). */
function centralRecord(zip: Uint8Array, path: string): number {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const wanted = new TextEncoder().encode(path);
  for (let at = zip.byteLength - 46; at >= 0; at--) {
    if (view.getUint32(at, true) !== 0x02014b50 || view.getUint16(at + 28, true) !== wanted.length) continue;
    if (wanted.every((byte, i) => zip[at + 46 + i] === byte)) return at;
  }
  throw new Error(`${path} is not in the zip`);
}

/** The zip with `path`'s declared uncompressed size replaced (what a zip bomb's directory does). */
function withDeclaredSize(zip: Uint8Array, path: string, size: number): Uint8Array {
  const copy = zip.slice();
  new DataView(copy.buffer).setUint32(centralRecord(copy, path) + 24, size, true);
  return copy;
}

describe('loading a model from a zip', () => {
  it('round trip: Export → load the zip → identical predictions', async () => {
    const zip = await exportBundle(model, { extraFiles: { 'README.md': README } });
    const again = await loadZip(zip);
    expect(again.summary().weightFormat).toBe('safetensors');
    expect(again.name).toBe('micro');
    expect(await again.predict(TEXTS)).toEqual(await model.predict(TEXTS));
    again.dispose();
  });

  it('finds the model in one top-level folder', async () => {
    const zip = await exportBundle(model, { folderName: 'micro-fewshot' });
    const again = await loadZip(zip);
    expect(await again.predict(TEXTS)).toEqual(await model.predict(TEXTS));
    again.dispose();
  });

  it('never inflates entries the loader does not ask for', async () => {
    // README.md declares an absurd size: reading it would be refused, so loading proves it was never read.
    const zip = withDeclaredSize(await exportBundle(model, { extraFiles: { 'README.md': README } }), 'README.md', 2e9);
    const again = await loadZip(zip);
    again.dispose();
  });

  it('refuses an entry whose declared size is absurd for the zip (zip bomb)', async () => {
    const zip = withDeclaredSize(await exportBundle(model), 'model.safetensors', 2e9);
    await expectCodeAsync(loadZip(zip), 'ZIP_TOO_LARGE', 'micro-fewshot.zip', 'model.safetensors', '2000000000');
  });

  it('refuses a truncated zip', async () => {
    const zip = await exportBundle(model);
    await expectCodeAsync(loadZip(zip.slice(0, zip.byteLength >> 1)), 'ZIP_CORRUPT', 'micro-fewshot.zip', 'truncated');
  });

  it('refuses a file that is not a zip', async () => {
    const bytes = new TextEncoder().encode('{"model_type": "bert"}');
    await expectCodeAsync(loadZip(bytes, 'model.zip'), 'ZIP_NOT_A_ZIP', 'model.zip', 'not a zip');
  });

  it('refuses a password-protected zip', async () => {
    const zip = (await exportBundle(model)).slice();
    const at = centralRecord(zip, 'config.json');
    zip[at + 8] |= 1;
    await expectCodeAsync(loadZip(zip), 'ZIP_ENCRYPTED', 'password', 'config.json');
  });

  it('refuses a zip without config.json', async () => {
    await expectCodeAsync(
      loadZip(zipSync({ 'README.md': README })),
      'ZIP_NO_MODEL',
      'micro-fewshot.zip',
      'config.json',
    );
  });

  it('refuses a zip with config.json nested too deep', async () => {
    const zip = await exportBundle(model, { folderName: 'outer/inner' });
    await expectCodeAsync(loadZip(zip), 'ZIP_NO_MODEL', 'outer/inner/config.json');
  });

  it('refuses a zip with two model folders', async () => {
    const files = await model.exportFiles({ dtype: 'F32' });
    const zippable: Zippable = {};
    for (const folder of ['a', 'b']) for (const [name, bytes] of files) zippable[`${folder}/${name}`] = bytes;
    await expectCodeAsync(loadZip(zipSync(zippable)), 'ZIP_SEVERAL_MODELS', 'a/, b/');
  });
});
