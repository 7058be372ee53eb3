/**
 * The model as a downloadable bundle: the Hugging Face folder (config.json with labels or the
 * prompt, vocabulary, tokenizer files, model.safetensors) plus any extra files the caller adds (a
 * model card, metrics), zipped in one folder so that unzipping gives a directory that both
 * `from_pretrained` and the studio open.
 */
import { SETFIT_HEAD_JSON, zipFolder } from '../checkpoint';
import type { FewShotModel } from './fewshot-model';

export interface ExportBundleOptions {
  /** Weight precision: F32 is lossless; F16 halves the file. Default F32. */
  dtype?: 'F32' | 'F16';
  /** More files to put beside the weights (file name → bytes), e.g. README.md and metrics.json. */
  extraFiles?: Record<string, Uint8Array>;
  /** Folder inside the zip. Default: the files at the zip's root. */
  folderName?: string;
}

export async function exportBundle(model: FewShotModel, options: ExportBundleOptions = {}): Promise<Uint8Array> {
  const files = await model.exportFiles({ dtype: options.dtype ?? 'F32' });
  addExtraFiles(files, options.extraFiles);
  return zipFolder(files, options.folderName);
}

/**
 * Adds the caller's files. A SetFit folder's own README.md (how to load body and head in Python) is
 * kept: a caller's model card is appended to it under "Training", without its front matter and title.
 */
export function addExtraFiles(
  files: Map<string, Uint8Array>,
  extraFiles: Record<string, Uint8Array> | undefined,
): void {
  for (const [name, bytes] of Object.entries(extraFiles ?? {})) {
    const own = files.get(name);
    if (name === 'README.md' && own && files.has(SETFIT_HEAD_JSON)) {
      const text = new TextDecoder().decode(bytes);
      const body = text
        .replace(/^---\n[\s\S]*?\n---\n/, '') // front matter
        .replace(/^\s*# .*\n/, '') // title
        .trim();
      const merged = `${new TextDecoder().decode(own).trimEnd()}\n\n## Training\n\n${body.replace(/^## /gm, '### ')}\n`;
      files.set(name, new TextEncoder().encode(merged));
    } else files.set(name, bytes);
  }
}

/**
 * A bundle of model files kept elsewhere (e.g. a run's model saved in browser storage), in the same
 * zipped form as exportBundle.
 */
export function bundleFiles(
  files: Record<string, Uint8Array>,
  options: Omit<ExportBundleOptions, 'dtype'> = {},
): Uint8Array {
  const all = new Map(Object.entries(files));
  addExtraFiles(all, options.extraFiles);
  return zipFolder(all, options.folderName);
}
