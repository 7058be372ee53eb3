/**
 * Weights I/O, browser-safe entry point. The Node directory source and `writeFolder` live in `./node-dir`, which
 * is deliberately not re-exported here so that bundles for the browser never pull in `fs`.
 */
export * from './types';
export {
  type SafetensorsDtype,
  DTYPE_BYTES,
  float16BitsToFloat32,
  float32ToFloat16Bits,
  bfloat16BitsToFloat32,
  decodeToFloat32,
} from './dtypes';
export {
  parseSafetensors,
  writeSafetensors,
  MAX_SAFETENSORS_HEADER_BYTES,
  type ParsedSafetensors,
  type WriteSafetensorsOptions,
} from './safetensors';
export { parseShardIndex, assembleShards, type ShardIndex, type AssembledShards } from './shards';
export { parsePytorchBin } from './pytorch-bin';
export { unpickleRestricted, type UnpickleOptions, type AllowedGlobal } from './pickle';
export { readRequired, type CheckpointSource, type ReadProgress, type ProgressListener } from './source';
export { createFileListSource, type DroppedFile } from './file-list-source';
export { createZipSource, isSingleZip } from './zip-source';
export {
  createHubSource,
  hubFileUrl,
  hubRefKey,
  isCommitHash,
  sha256Hex,
  DEFAULT_HUB_BASE_URL,
  DEFAULT_MISSING_TTL_MS,
  type HubSource,
  type HubSourceOptions,
} from './hub-source';
export { listCachedHubModels, deleteCachedHubModel, clearHubCache, type CachedHubModel } from './hub-cache';
export { createUrlFolderSource } from './url-folder-source';
export {
  MemoryDownloadCache,
  BrowserDownloadCache,
  DEFAULT_BROWSER_CACHE_NAME,
  type DownloadCache,
  type CachedFile,
  type CacheEntryInfo,
} from './cache';
export {
  loadCheckpointFiles,
  WEIGHT_FILE_CANDIDATES,
  type CheckpointFiles,
  type LoadCheckpointOptions,
  type WeightFormat,
} from './load';
export {
  readSentenceTransformersConfig,
  describeSentenceTransformers,
  type SentenceTransformersConfig,
  type SentencePooling,
} from './sentence-transformers';
export { exportFolder, zipFolder, type ExportFolderOptions } from './export';
export {
  readSetFitHead,
  sentenceTransformersFiles,
  setfitHeadFiles,
  setfitModelCard,
  SETFIT_HEAD_JSON,
  SETFIT_HEAD_WEIGHTS,
  type SetFitHead,
} from './setfit-head';
