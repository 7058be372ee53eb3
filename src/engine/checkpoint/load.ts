/**
 * Reads a Hugging Face checkpoint folder from any source: the JSON/text side files, and the weights in whichever
 * format is present. Preference order (first found wins): model.safetensors, model.safetensors.index.json + shards,
 * pytorch_model.bin, pytorch_model.bin.index.json + shards — safetensors first because it cannot carry code and
 * needs no unpickling. Config and tokenizer JSON are parsed here but validated by their owners (bert/, tokenizer/).
 */
import { parsePytorchBin } from './pytorch-bin';
import { parseSafetensors } from './safetensors';
import { assembleShards, parseShardIndex } from './shards';
import { readSentenceTransformersConfig, type SentenceTransformersConfig } from './sentence-transformers';
import { SETFIT_HEAD_JSON, SETFIT_HEAD_WEIGHTS, readSetFitHead, type SetFitHead } from './setfit-head';
import { readRequired, type CheckpointSource, type ProgressListener } from './source';
import { type TensorMap } from './types';
import { EngineError } from '../errors';

export type WeightFormat = 'safetensors' | 'safetensors-sharded' | 'pytorch-bin' | 'pytorch-bin-sharded';

export interface CheckpointFiles {
  /** Parsed config.json (an object; field validation belongs to the model). */
  configJson: Record<string, unknown>;
  vocabTxt?: string;
  /** Parsed tokenizer.json. */
  tokenizerJson?: unknown;
  tokenizerConfig?: Record<string, unknown>;
  specialTokensMap?: Record<string, unknown>;
  tensors: TensorMap;
  weightFormat: WeightFormat;
  /** Weight files actually read, in order. */
  weightFiles: string[];
  /** safetensors `__metadata__` of the (first) weights file; empty for pytorch_model.bin. */
  weightMetadata: Record<string, string>;
  /** Non-fatal findings worth showing the user. */
  warnings: string[];
  /** The sentence-transformers pipeline when the folder has a modules.json (./sentence-transformers.ts). */
  sentenceTransformers?: SentenceTransformersConfig;
  /** A SetFit head (setfit_head.json + setfit_head.safetensors) next to the pipeline (./setfit-head.ts). */
  setfitHead?: SetFitHead;
}

export interface LoadCheckpointOptions {
  /** Per-file progress of every read. Default none. */
  onProgress?: ProgressListener;
}

/** Weight file names in preference order. */
export const WEIGHT_FILE_CANDIDATES = [
  'model.safetensors',
  'model.safetensors.index.json',
  'pytorch_model.bin',
  'pytorch_model.bin.index.json',
] as const;

/** Weight files of other frameworks, named in the error when they are all a folder has. */
const FOREIGN_WEIGHT_FILES = ['tf_model.h5', 'flax_model.msgpack', 'model.onnx', 'onnx/model.onnx'];

function decodeText(bytes: Uint8Array, file: string): string {
  try {
    // The BOM is stripped by TextDecoder by default.
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new EngineError(
      'CHECKPOINT_BAD_TEXT',
      `${file} is not valid UTF-8 text. The file is corrupt; download it again.`,
    );
  }
}

function parseJsonFile(bytes: Uint8Array, file: string): unknown {
  try {
    return JSON.parse(decodeText(bytes, file));
  } catch (error) {
    if (error instanceof EngineError) throw error;
    throw new EngineError(
      'CHECKPOINT_BAD_JSON',
      `${file} is not valid JSON (${(error as Error).message}). The file is corrupt; download it again.`,
    );
  }
}

function parseJsonObject(bytes: Uint8Array, file: string): Record<string, unknown> {
  const value = parseJsonFile(bytes, file);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new EngineError('CHECKPOINT_BAD_JSON', `${file} must contain a JSON object.`);
  }
  return value as Record<string, unknown>;
}

export async function loadCheckpointFiles(
  source: CheckpointSource,
  options: LoadCheckpointOptions = {},
): Promise<CheckpointFiles> {
  const { onProgress } = options;
  const warnings: string[] = [];
  // A listing lets us skip reads of files that are not there (no 404 round trips); without one we probe.
  const listed = await source.list();
  const available = listed === null ? null : new Set(listed);
  const readOptional = async (name: string): Promise<Uint8Array | null> =>
    available !== null && !available.has(name) ? null : source.read(name, onProgress);

  const configJson = parseJsonObject(await readRequired(source, 'config.json', onProgress), 'config.json');
  const vocabBytes = await readOptional('vocab.txt');
  const tokenizerBytes = await readOptional('tokenizer.json');
  const tokenizerConfigBytes = await readOptional('tokenizer_config.json');
  const specialTokensBytes = await readOptional('special_tokens_map.json');
  // A sentence-transformers folder (docs/ARCHITECTURE.md, "Sentence-transformers folders"): read and refused
  // before any weights, so a pipeline we cannot run costs no download of them. Without modules.json none of its
  // files is read.
  const modulesBytes = await readOptional('modules.json');
  const sentenceTransformers =
    modulesBytes === null
      ? undefined
      : await readSentenceTransformersConfig(parseJsonFile(modulesBytes, 'modules.json'), configJson, async (name) => {
          // The pooling config is in a module folder that a listing of the top level may not show: read it directly.
          const bytes = name.includes('/') ? await source.read(name, onProgress) : await readOptional(name);
          return bytes === null ? null : parseJsonFile(bytes, name);
        });
  // A SetFit export (docs/ARCHITECTURE.md, "Sentence-transformers folders"): optional, keyed on setfit_head.json;
  // when it is there, its weights file must be too and both must fit the pipeline and config.json.
  const headJsonBytes = await readOptional(SETFIT_HEAD_JSON);
  const setfitHead =
    headJsonBytes === null
      ? undefined
      : readSetFitHead(
          parseJsonFile(headJsonBytes, SETFIT_HEAD_JSON),
          await readOptional(SETFIT_HEAD_WEIGHTS),
          typeof configJson.hidden_size === 'number' ? configJson.hidden_size : -1,
          sentenceTransformers,
        );
  if (vocabBytes === null && tokenizerBytes === null) {
    warnings.push(
      `Neither vocab.txt nor tokenizer.json was found in ${source.description}; a tokenizer must come from elsewhere.`,
    );
  }

  let weights: Pick<CheckpointFiles, 'tensors' | 'weightFormat' | 'weightFiles' | 'weightMetadata'> | null = null;
  for (const candidate of WEIGHT_FILE_CANDIDATES) {
    const bytes = await readOptional(candidate);
    if (bytes === null) continue;
    if (candidate === 'model.safetensors') {
      const parsed = parseSafetensors(bytes, candidate);
      weights = {
        tensors: parsed.tensors,
        weightFormat: 'safetensors',
        weightFiles: [candidate],
        weightMetadata: parsed.metadata,
      };
    } else if (candidate === 'pytorch_model.bin') {
      weights = {
        tensors: parsePytorchBin(bytes, candidate),
        weightFormat: 'pytorch-bin',
        weightFiles: [candidate],
        weightMetadata: {},
      };
    } else {
      const isSafetensors = candidate === 'model.safetensors.index.json';
      const index = parseShardIndex(decodeText(bytes, candidate), candidate);
      let firstMetadata: Record<string, string> | null = null;
      const assembled = await assembleShards(
        index,
        candidate,
        (file) => source.read(file, onProgress),
        (shardBytes, file) => {
          if (!isSafetensors) return parsePytorchBin(shardBytes, file);
          const parsed = parseSafetensors(shardBytes, file);
          firstMetadata ??= parsed.metadata;
          return parsed.tensors;
        },
        (file) => source.locate(file),
      );
      warnings.push(...assembled.warnings);
      weights = {
        tensors: assembled.tensors,
        weightFormat: isSafetensors ? 'safetensors-sharded' : 'pytorch-bin-sharded',
        weightFiles: [candidate, ...index.shardFiles],
        weightMetadata: firstMetadata ?? {},
      };
    }
    break;
  }

  if (weights === null) {
    const foreign = available === null ? [] : FOREIGN_WEIGHT_FILES.filter((name) => available.has(name));
    throw new EngineError(
      'CHECKPOINT_MISSING_WEIGHTS',
      `No PyTorch weights found in ${source.description}: looked for ${WEIGHT_FILE_CANDIDATES.join(', ')} (e.g. ${source.locate(WEIGHT_FILE_CANDIDATES[0])}).` +
        (foreign.length > 0
          ? ` Found only ${foreign.join(', ')}; convert the checkpoint to safetensors first.`
          : ' Check the repository or folder.'),
    );
  }
  if (weights.tensors.size === 0) {
    throw new EngineError(
      'CHECKPOINT_EMPTY_WEIGHTS',
      `${weights.weightFiles[0]} in ${source.description} contains no tensors.`,
    );
  }

  return {
    configJson,
    vocabTxt: vocabBytes === null ? undefined : decodeText(vocabBytes, 'vocab.txt'),
    tokenizerJson: tokenizerBytes === null ? undefined : parseJsonFile(tokenizerBytes, 'tokenizer.json'),
    tokenizerConfig:
      tokenizerConfigBytes === null ? undefined : parseJsonObject(tokenizerConfigBytes, 'tokenizer_config.json'),
    specialTokensMap:
      specialTokensBytes === null ? undefined : parseJsonObject(specialTokensBytes, 'special_tokens_map.json'),
    ...weights,
    warnings: [...(source.warnings ?? []), ...warnings],
    ...(sentenceTransformers ? { sentenceTransformers } : {}),
    ...(setfitHead ? { setfitHead } : {}),
  };
}
