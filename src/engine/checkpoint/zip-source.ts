/**
 * A checkpoint dropped into the browser as one zip file, e.g. the `<name>-fewshot.zip` the studio's Export writes.
 * The zip is read once; its central directory is listed with fflate and each file the loader asks for is inflated
 * on demand (fflate's `filter`), so entries the loader never asks for (README.md, metrics.json, stray files) are
 * never inflated. The model folder is the zip's root or its one top-level folder holding config.json.
 */
import { unzipSync, type UnzipFileInfo } from 'fflate';
import type { CheckpointSource, ProgressListener } from './source';
import type { DroppedFile } from './file-list-source';
import { EngineError } from '../errors';

// Inflated data may be at most this many times the zip's size (plus the slack below), all entries together. Weights
// are stored, not deflated, so a real model inflates to about its zip's size; only its text files (vocabulary,
// tokenizer) deflate, by a few times at most. Declared sizes beyond this are a zip bomb or a damaged directory,
// refused before anything that big is allocated. (fflate inflates into a buffer of the declared size and stops there,
// so the declared sizes bound what is allocated.)
const MAX_EXPANSION = 8;
// Room for a micro model whose text files dominate its small zip.
const BUDGET_SLACK_BYTES = 16 << 20;

/** Files a zip tool adds beside the real ones (macOS Finder's resource forks), never part of a model folder. */
function isToolDebris(path: string): boolean {
  return path.startsWith('__MACOSX/') || (path.split('/').pop() ?? '').startsWith('._');
}

/**
 * Names of entries whose general-purpose flag says "encrypted". fflate ignores that flag (and would inflate
 * ciphertext into garbage), so the central directory is walked once here for it alone; a directory that does not
 * parse as expected yields no names and is left to fflate's own checks.
 */
function encryptedEntries(bytes: Uint8Array): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let end = bytes.byteLength - 22;
  while (end >= 0 && view.getUint32(end, true) !== 0x06054b50) end--;
  if (end < 0) return [];
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    if (at + 46 > bytes.byteLength || view.getUint32(at, true) !== 0x02014b50) return names;
    const nameLength = view.getUint16(at + 28, true);
    if ((view.getUint16(at + 8, true) & 1) !== 0) {
      names.push(new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLength)));
    }
    at += 46 + nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
  }
  return names;
}

export function createZipSource(file: DroppedFile): CheckpointSource {
  const zipName = file.name;
  const fail = (code: string, what: string): never => {
    throw new EngineError(code, `${zipName}: ${what}`);
  };
  let opened: Promise<{ bytes: Uint8Array; prefix: string; entries: Map<string, UnzipFileInfo> }> | null = null;
  let budget = 0;

  const unzip = (bytes: Uint8Array, keep: (info: UnzipFileInfo) => boolean): Record<string, Uint8Array> => {
    try {
      return unzipSync(bytes, { filter: keep });
    } catch (error) {
      if (error instanceof EngineError) throw error;
      return fail(
        'ZIP_CORRUPT',
        `the zip archive cannot be read (${(error as Error).message}). It is damaged or truncated; export or download it again, or unzip it and open the folder.`,
      );
    }
  };

  const open = async () => {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const isZip = bytes.byteLength >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b;
    if (!isZip) {
      fail('ZIP_NOT_A_ZIP', 'this is not a zip file. Drop a zipped Hugging Face model folder or the folder itself.');
    }
    budget = MAX_EXPANSION * bytes.byteLength + BUDGET_SLACK_BYTES;
    const entries = new Map<string, UnzipFileInfo>();
    // Listing only: the filter sees every entry of the central directory and keeps none, so nothing is inflated.
    unzip(bytes, (info) => {
      if (!info.name.endsWith('/') && !isToolDebris(info.name)) entries.set(info.name, info);
      return false;
    });
    // Names are compared loosely (fflate may decode a name differently), so only folders are left out.
    const encrypted = encryptedEntries(bytes).filter((name) => !name.endsWith('/'));
    if (encrypted.length > 0 || [...entries.values()].some((info) => info.compression === 99)) {
      fail(
        'ZIP_ENCRYPTED',
        `the zip is password-protected (${encrypted[0] ?? 'AES-encrypted entries'}). Unzip it yourself and open the folder.`,
      );
    }
    const configs = [...entries.keys()].filter((name) => name === 'config.json' || name.endsWith('/config.json'));
    // The model folder is the root or one top-level folder, as Export (and "compress this folder") writes it.
    const folders = configs.filter((name) => name.split('/').length <= 2).map((name) => name.slice(0, -11));
    if (folders.length === 0) {
      fail(
        'ZIP_NO_MODEL',
        configs.length > 0
          ? `config.json is nested too deep (${configs[0]}). Zip the model folder itself, so that config.json is at the zip's root or in its one top-level folder.`
          : "the zip holds no config.json, so it is not a Hugging Face model folder. Zip the folder that holds config.json, vocab.txt and model.safetensors (the Model panel's Export writes such a zip).",
      );
    }
    if (folders.length > 1) {
      fail(
        'ZIP_SEVERAL_MODELS',
        `the zip holds several model folders (${folders.map((f) => f || '(root)').join(', ')}). Zip one model folder per file.`,
      );
    }
    return { bytes, prefix: folders[0], entries };
  };
  const opening = () => (opened ??= open());

  return {
    description: `zip "${zipName}"`,
    async list() {
      const { prefix, entries } = await opening();
      return [...entries.keys()].filter((name) => name.startsWith(prefix)).map((name) => name.slice(prefix.length));
    },
    async read(name: string, onProgress?: ProgressListener) {
      const { bytes, prefix, entries } = await opening();
      const path = prefix + name;
      const info = entries.get(path);
      if (info === undefined) return null;
      if (info.originalSize > budget) {
        fail(
          'ZIP_TOO_LARGE',
          `${path} claims to inflate to ${info.originalSize} bytes, far more than a ${bytes.byteLength}-byte zip of a model can hold. The zip is damaged or malicious; export or download it again.`,
        );
      }
      const inflated = unzip(bytes, (entry) => entry.name === path)[path];
      // A truncated zip can slice a stored entry short without any error from fflate.
      if (inflated === undefined || inflated.byteLength !== info.originalSize) {
        fail(
          'ZIP_CORRUPT',
          `${path} is ${inflated?.byteLength ?? 0} bytes instead of the ${info.originalSize} its directory declares. The zip is damaged or truncated; export or download it again.`,
        );
      }
      budget -= inflated.byteLength;
      onProgress?.({ file: name, loaded: inflated.byteLength, total: inflated.byteLength });
      return inflated;
    },
    locate(name: string) {
      return `${zipName}!/${name}`;
    },
  };
}

/** Whether dropped files are one zip to open as a model folder (rather than the files of a folder). */
export function isSingleZip(files: readonly DroppedFile[]): boolean {
  return files.length === 1 && /\.zip$/i.test(files[0].name);
}
