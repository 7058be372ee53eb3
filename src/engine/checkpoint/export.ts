/**
 * Export in Hugging Face layout: the files a `from_pretrained` call (and our own loader) expects, as an in-memory
 * folder `Map<file name, bytes>`; `zipFolder` packs it for a browser download, `writeFolder` (node-dir.ts) writes it.
 */
import { zipSync, type Zippable } from 'fflate';
import { writeSafetensors } from './safetensors';
import type { TensorMap } from './types';

export interface ExportFolderOptions {
  /** The model's config.json object (copied; `torch_dtype` is set to match `dtype`). */
  config: Record<string, unknown>;
  /** vocab.txt contents. Default: not written. */
  vocabTxt?: string;
  /** tokenizer.json object. Default: not written. */
  tokenizerJson?: unknown;
  /** tokenizer_config.json object. Default: not written. */
  tokenizerConfig?: Record<string, unknown>;
  /** special_tokens_map.json object. Default: not written. */
  specialTokensMap?: Record<string, unknown>;
  tensors: TensorMap;
  /** Weight precision on disk. F32 is lossless; F16 halves the file and rounds to nearest even. */
  dtype: 'F32' | 'F16';
  /** Extra safetensors metadata. `format: "pt"` is always set because transformers refuses files without it. */
  metadata?: Record<string, string>;
}

const jsonBytes = (value: unknown): Uint8Array => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);

export function exportFolder(options: ExportFolderOptions): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  files.set(
    'config.json',
    jsonBytes({ ...options.config, torch_dtype: options.dtype === 'F16' ? 'float16' : 'float32' }),
  );
  if (options.vocabTxt !== undefined) files.set('vocab.txt', new TextEncoder().encode(options.vocabTxt));
  if (options.tokenizerJson !== undefined) files.set('tokenizer.json', jsonBytes(options.tokenizerJson));
  if (options.tokenizerConfig !== undefined) files.set('tokenizer_config.json', jsonBytes(options.tokenizerConfig));
  if (options.specialTokensMap !== undefined) files.set('special_tokens_map.json', jsonBytes(options.specialTokensMap));
  files.set(
    'model.safetensors',
    writeSafetensors(options.tensors.values(), {
      dtype: options.dtype,
      metadata: { ...options.metadata, format: 'pt' },
    }),
  );
  return files;
}

/**
 * Zips a folder. Weights are stored uncompressed (float noise does not compress, and deflating hundreds of MB would
 * only cost time); text files are deflated at fflate's default level. `folderName` nests everything in one folder so
 * that unzipping yields a directory `from_pretrained` can open. Default: files at the zip's root.
 */
export function zipFolder(files: Map<string, Uint8Array>, folderName?: string): Uint8Array {
  const zippable: Zippable = {};
  for (const [name, bytes] of files) {
    const path = folderName ? `${folderName}/${name}` : name;
    zippable[path] = [bytes, { level: name.endsWith('.safetensors') || name.endsWith('.bin') ? 0 : 6 }];
  }
  return zipSync(zippable);
}
