/**
 * The door's Node entry (docs/ARCHITECTURE.md, "The door"): the operations that read or write
 * files — model folders, data files, text corpora, checkpoints, vocabularies — and the Node
 * backend. The CLI imports only this and ./index.ts. Never bundled for the browser.
 */
import { constants } from 'node:fs';
import { access, readFile, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { loadCheckpointFiles } from '../checkpoint';
import { createNodeDirSource, recoverFolder, writeFolder } from '../checkpoint/node-dir';
import { atomicTempTarget, writeFileAtomic, type FileContent, type FileWriteOptions } from '../checkpoint/node-file';
import { applyColumnMapping, detectColumns, parseDatasetFile } from '../data';
import { EngineError } from '../errors';
import { parseJobSpec, type JobSpec } from '../job';
import { CORPUS_START } from '../pretrain/corpus';
import { fileCorpusSource, listCorpusFiles, type CorpusFile } from '../pretrain/node-corpus';
import { fileCheckpointStore } from '../pretrain/node-store';
import { readPromptConfig, type PromptConfig } from '../prompt/config';
import {
  NODE_BACKENDS,
  initNodeBackend,
  isNodeBackendName,
  nodeBackendReport,
  openNodeWebGpu,
  type NodeBackendName,
  type NodeBackendReport,
} from '../tf/node';
import { BertTokenizer } from '../tokenizer';
import { WordCounter, splitStats, trainWordPiece } from '../tokenizer/wordpiece-trainer';
import { readLoopStateJson } from '../train/loop-state';
import { DETECTION_SAMPLE_ROWS } from './data';
import { FewShotModel } from './fewshot-model';

export {
  fileCheckpointStore,
  fileCorpusSource,
  initNodeBackend,
  isNodeBackendName,
  listCorpusFiles,
  NODE_BACKENDS,
  nodeBackendReport,
  openNodeWebGpu,
  type CorpusFile,
  type NodeBackendReport,
  type FileContent,
  type FileWriteOptions,
  type NodeBackendName,
  // Every single-file output of the CLI goes through it: written whole or not at all.
  writeFileAtomic,
};

export async function loadModelFromDir(dir: string, options: { seed?: number } = {}): Promise<FewShotModel> {
  const absolute = resolve(dir);
  // Put back a folder an interrupted export swapped out (see writeFolder).
  await recoverFolder(absolute).catch(() => undefined);
  const files = await loadCheckpointFiles(createNodeDirSource(absolute));
  return FewShotModel.fromCheckpoint(files, { name: basename(absolute), source: absolute, seed: options.seed });
}

/**
 * Writes the model's Hugging Face folder (plus `extraFiles`) all-or-nothing: a reader of `dir`
 * sees the previous folder or the new one, never a mix (checkpoint/node-dir.ts). Files of the
 * previous folder matching `preserve` are carried over.
 */
export async function saveModelToDir(
  model: FewShotModel,
  dir: string,
  options: {
    dtype?: 'F32' | 'F16';
    extraFiles?: Map<string, Uint8Array>;
    preserve?: (file: string) => boolean;
  } = {},
): Promise<void> {
  const files = await model.exportFiles({ dtype: options.dtype });
  for (const [name, bytes] of options.extraFiles ?? []) files.set(name, bytes);
  await writeFolder(dir, files, { preserve: options.preserve });
}

/** The `fewshot_prompt` saved in DIR/config.json, or null. */
export async function readPromptFromDir(dir: string): Promise<PromptConfig | null> {
  const file = join(dir, 'config.json');
  return readPromptConfig(parseJsonText(await readFile(file, 'utf8'), file));
}

/** JSON from a file the user pointed at; a syntax error names the file (never a raw SyntaxError). */
function parseJsonText<T = unknown>(text: string, file: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new EngineError(
      'CHECKPOINT_BAD_JSON',
      `${file} is not valid JSON (${(error as Error).message}). Check that it is the right file, or download it again.`,
    );
  }
}

export async function readFileBytes(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    throw new EngineError('CLI_READ_FAILED', `Cannot read ${path}: ${(error as Error).message}`);
  }
}

export interface DataRow {
  text: string;
  textPair?: string;
  /** null for unlabeled rows. */
  label: string | null;
  /** 1-based row as a spreadsheet shows it (CSV/TSV header = row 1; JSONL = line), for messages. */
  row: number;
  /** The label cell's text when it was a missing-value marker ("NaN", "N/A", …). */
  missingLabel?: string;
}

export interface ColumnOverrides {
  text?: string;
  textPair?: string;
  label?: string;
}

export interface LoadedDataFile {
  path: string;
  rows: DataRow[];
  columns: { text: string; textPair: string | null; label: string | null };
  warnings: string[];
}

/** Reads a CSV, TSV or JSONL data file with detected columns (overridable by name). */
export async function readDataFile(path: string, overrides: ColumnOverrides = {}): Promise<LoadedDataFile> {
  const parsed = parseDatasetFile(await readFileBytes(path), basename(path));
  const detected = detectColumns(parsed.columns, parsed.rows.slice(0, DETECTION_SAMPLE_ROWS));
  const mapping = {
    text: overrides.text ?? detected.text,
    textPair: overrides.textPair ?? detected.textPair,
    label: overrides.label ?? detected.label,
  };
  for (const [role, column] of Object.entries(mapping)) {
    if (column && !parsed.columns.includes(column)) {
      throw new EngineError(
        'DATA_UNKNOWN_COLUMN',
        `${path}: there is no column "${column}" (asked for as the ${role} column). Columns: ${parsed.columns.join(', ')}.`,
      );
    }
  }
  const rows = applyColumnMapping(parsed, mapping).map((e) => ({
    text: e.text,
    textPair: e.textPair ?? undefined,
    label: e.label,
    row: e.row,
    ...(e.missingLabel === undefined ? {} : { missingLabel: e.missingLabel }),
  }));
  return {
    path,
    rows,
    columns: { text: mapping.text, textPair: mapping.textPair ?? null, label: mapping.label ?? null },
    warnings: parsed.warnings.map((w) => w.message),
  };
}

/** A tokenizer from a model folder (tokenizer.json / vocab.txt / tokenizer_config.json) or one file. */
export async function loadTokenizer(source: { modelDir?: string; file?: string }): Promise<BertTokenizer> {
  if (source.file) {
    const text = await readFile(source.file, 'utf8');
    if (basename(source.file).endsWith('.json'))
      return BertTokenizer.fromTokenizerJson(parseJsonText(text, source.file));
    return BertTokenizer.fromVocabTxt(text);
  }
  if (!source.modelDir) throw new EngineError('TOKENIZER_NO_SOURCE', 'Give a model folder or a tokenizer file.');
  const read = async (name: string) => readFile(join(source.modelDir!, name), 'utf8').catch(() => undefined);
  const [tokenizerJson, vocabTxt, tokenizerConfig] = await Promise.all([
    read('tokenizer.json'),
    read('vocab.txt'),
    read('tokenizer_config.json'),
  ]);
  return BertTokenizer.fromHuggingFaceFiles({
    tokenizerJson: tokenizerJson ? parseJsonText(tokenizerJson, join(source.modelDir, 'tokenizer.json')) : undefined,
    vocabTxt,
    tokenizerConfig: tokenizerConfig
      ? parseJsonText(tokenizerConfig, join(source.modelDir, 'tokenizer_config.json'))
      : undefined,
  });
}

export interface VocabularyOptions {
  /** Tokens in the vocabulary, special tokens included. */
  vocabSize: number;
  /** Least count of a merged pair or a kept character. */
  minFrequency: number;
  /** Most distinct characters kept; rarer ones become [UNK]. */
  maxAlphabet: number;
  /** Called once the words are counted. */
  onCounted?: (info: { words: number; distinct: number; description: string }) => void;
}

/** Trains a WordPiece vocabulary on the .txt files under `paths`; returns vocab.txt and how it splits the corpus. */
export async function trainVocabulary(paths: readonly string[], options: VocabularyOptions) {
  const { files, warnings } = await listCorpusFiles(paths);
  const source = fileCorpusSource(files);
  const counter = new WordCounter();
  for await (const chunk of source.chunks(CORPUS_START)) counter.add(chunk.text);
  if (counter.totalWords === 0)
    throw new EngineError(
      'VOCAB_EMPTY_CORPUS',
      `${source.description} has no words: give text files with at least a few thousand words.`,
    );
  options.onCounted?.({ words: counter.totalWords, distinct: counter.counts.size, description: source.description });
  const result = trainWordPiece(counter.counts, options);
  const vocabTxt = `${result.tokens.join('\n')}\n`;
  const split = splitStats(BertTokenizer.fromVocabTxt(vocabTxt), counter);
  return {
    vocabTxt,
    warnings,
    result,
    corpus: { files: files.length, words: counter.totalWords, distinctWords: counter.counts.size },
    split,
  };
}

/** The optimizer step a saved training state file is at, or null when the file holds none. */
export async function readStateStep(path: string): Promise<number | null> {
  return readLoopStateJson(await readFileBytes(path), path)?.step ?? null;
}

/** Files FewShot Studio writes into an output folder (a model export, its metrics and logs). */
export const EXPORT_FILE_NAMES: ReadonlySet<string> = new Set([
  'config.json',
  'vocab.txt',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'model.safetensors',
  'metrics.json',
  'train_log.jsonl',
  'README.md',
  'loss.svg',
  'dev_predictions.csv',
  'checkpoint.safetensors',
  'pretrain_log.jsonl',
  'pretrain_summary.json',
]);

/**
 * Checks an output folder before a run writes there, so a finished run never lands on something
 * it must not replace: refuses the input model's own folder, a file, and a non-empty folder that
 * is not a previous export of ours (unless `overwrite`).
 */
export async function checkOutputFolder(
  out: string,
  options: { modelDir?: string; overwrite?: boolean } = {},
): Promise<void> {
  const target = resolve(out);
  if (options.modelDir && resolve(options.modelDir) === target) {
    throw new EngineError(
      'OUT_IS_MODEL',
      `--out ${out} is the folder of the model you start from; writing there would replace it. Choose another --out.`,
    );
  }
  const info = await stat(target).catch(() => null);
  if (!info) return;
  if (!info.isDirectory())
    throw new EngineError('EXPORT_NOT_A_FOLDER', `--out ${out} is a file, not a folder; choose another --out.`);
  const entries = await readdir(target);
  // A run killed while writing its checkpoint or log leaves a hidden temporary file of ours.
  const ours = (e: string) => EXPORT_FILE_NAMES.has(e) || EXPORT_FILE_NAMES.has(atomicTempTarget(e) ?? '');
  const foreign = entries.filter((e) => !ours(e));
  if (foreign.length > 0 && !options.overwrite) {
    throw new EngineError(
      'OUT_NOT_EMPTY',
      `--out ${out} already holds files that are not a FewShot Studio export (${foreign.slice(0, 5).join(', ')}${foreign.length > 5 ? ', …' : ''}); they would be replaced. Choose an empty or new folder, or pass --overwrite.`,
    );
  }
}

/** Throws a clear EngineError when `path` cannot be written as a file (a folder, no such folder, no permission). */
export async function checkWritableFile(path: string): Promise<void> {
  const target = resolve(path);
  const info = await stat(target).catch(() => null);
  if (info?.isDirectory())
    throw new EngineError('OUTPUT_IS_FOLDER', `${path} is a folder; give a file name for the output.`);
  const folder = dirname(target);
  const parent = await stat(folder).catch(() => null);
  if (!parent?.isDirectory()) {
    throw new EngineError(
      'OUTPUT_NO_FOLDER',
      `Cannot write ${path}: the folder ${folder} does not exist. Create it first.`,
    );
  }
  try {
    await access(info ? target : folder, constants.W_OK);
  } catch {
    throw new EngineError(
      'OUTPUT_NOT_WRITABLE',
      `Cannot write ${path}: permission denied. Choose a place you can write to.`,
    );
  }
}

/**
 * Writes a training bundle (docs/ARCHITECTURE.md, "Training jobs") to `dir`, whole or not at all.
 * The folder must be new, empty or an earlier bundle (it holds a job.json): nothing else is replaced.
 */
export async function writeJobFolder(dir: string, files: Map<string, Uint8Array>): Promise<void> {
  const target = resolve(dir);
  const info = await stat(target).catch(() => null);
  if (info && !info.isDirectory())
    throw new EngineError('EXPORT_NOT_A_FOLDER', `--job-out ${dir} is a file, not a folder; choose another --job-out.`);
  if (info) {
    const entries = await readdir(target);
    if (entries.length > 0 && !entries.includes('job.json')) {
      throw new EngineError(
        'OUT_NOT_EMPTY',
        `--job-out ${dir} already holds files that are not a training bundle (${entries.slice(0, 5).join(', ')}${entries.length > 5 ? ', …' : ''}). Choose an empty or new folder.`,
      );
    }
  }
  await writeFolder(dir, files);
}

/** A job.json from disk, validated, with the folder its relative paths start from. */
export async function readJobFile(path: string): Promise<{ spec: JobSpec; dir: string }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new EngineError('CLI_READ_FAILED', `Cannot read the job ${path}: ${(error as Error).message}`);
  }
  return { spec: parseJobSpec(text, path), dir: dirname(resolve(path)) };
}
