/**
 * The studio's project, kept in the browser so a reload or a closed tab loses nothing
 * (docs/USER_GUIDE.md, "Your data"): the dataset file and its column mapping, the model's origin,
 * the UI's settings and every run's history (as the UI records them), and a checkpoint of the
 * running training — the one loop's whole state (docs/ARCHITECTURE.md, "Loop state") with the
 * request that started it. Everything lives in one IndexedDB database on this origin; nothing
 * leaves the machine. Each record is written in one transaction, so a checkpoint is replaced whole
 * or not at all.
 */
import { openDB, type IDBPDatabase } from 'idb';
import { EngineError, type ColumnMapping, type ModelSource } from '../engine/studio';

/** The project as stored. The worker merges top-level fields; `ui` and `runs` are the UI's own JSON. */
export interface ProjectRecord {
  dataset?: { fileName: string; bytes: Uint8Array; mapping: ColumnMapping } | null;
  /**
   * Where the model came from, when it can be loaded again (embedded or Hub), and when it was
   * chosen: a trained model saved after that time is the one a reload reopens.
   */
  model?: { source: ModelSource; name: string; at: number } | null;
  ui?: unknown;
  runs?: unknown[];
  updatedAt?: number;
}

/** What a run reported up to a checkpoint: its charts, saved with the checkpoint so they match it. */
export interface RunHistory {
  losses: { step: number; loss: number }[];
  lrPoints: { step: number; lr: number }[];
  /** The evaluated events (step, epoch, isBest, metrics), as the protocol sends them. */
  evaluations: { step: number; epoch: number; isBest: boolean; metrics: unknown }[];
}

/** A training run's latest checkpoint. */
export interface RunCheckpoint {
  runId: string;
  /** Optimizer steps done when it was taken. */
  step: number;
  savedAt: number;
  /**
   * What started the run (the worker protocol's TrainingRequest: rows, method, settings), so a
   * resumed run is started the same way. Opaque here: the store sits below the protocol.
   */
  request: unknown;
  /** The model the run trained (by its summary's name and source): resuming needs the same one. */
  model: { name: string; source: string };
  /** The loop state in its one-file form (serializeLoopState). */
  state: Uint8Array;
  /** Losses, learning rates and evaluations up to `step`. */
  history: RunHistory;
}

/** A model as a finished run (or an adaptation, or a dropped folder) left it: its Hugging Face folder's files. */
export interface SavedModel {
  /** The model's name in the studio (its summary's name). */
  name: string;
  /** Which run produced it (null for an adaptation or a dropped folder). */
  runId: string | null;
  savedAt: number;
  /** File name → bytes (config.json, vocabulary, tokenizer files, model.safetensors). */
  files: Record<string, Uint8Array>;
}

export interface StorageInfo {
  usage: number | null;
  quota: number | null;
  persisted: boolean | null;
}

export interface ProjectStore {
  loadProject(): Promise<ProjectRecord | null>;
  /** Merges `patch` into the stored project (fields set to undefined are left as they are). */
  saveProject(patch: ProjectRecord): Promise<void>;
  saveCheckpoint(checkpoint: RunCheckpoint): Promise<void>;
  loadCheckpoint(runId: string): Promise<RunCheckpoint | null>;
  /** The newest checkpoint of any run (what a reload can resume), without its state bytes. */
  latestCheckpoint(): Promise<Omit<RunCheckpoint, 'state' | 'request'> | null>;
  removeCheckpoint(runId: string): Promise<void>;
  /**
   * Keeps a model: the newest is what a reload reopens; runs' models stay exportable from the runs
   * list, the newest MAX_SAVED_MODELS of them (older ones are deleted to bound the space used).
   */
  saveModel(model: SavedModel): Promise<void>;
  /** The newest saved model, or the one a run produced. */
  loadModel(runId?: string): Promise<SavedModel | null>;
  /** Which runs' models are kept. */
  savedRunModels(): Promise<string[]>;
  /** Deletes a run's checkpoint and model. */
  removeRun(runId: string): Promise<void>;
  /** Deletes the project and every checkpoint. */
  clear(): Promise<void>;
}

const PROJECT_KEY = 'current';
/** Saved models kept at most (each is a whole model, e.g. 45 MB for the default model: 11.3 M parameters in float32). */
export const MAX_SAVED_MODELS = 5;

/** The models store's key of a saved model: its run, or its time for models of no run. */
function modelKey(model: SavedModel): string {
  return model.runId ?? `model-${model.savedAt}`;
}

// -------------------------------------------------------------------------------------------------
// Reading records back: storage written by an older version, another tab or a damaged profile is
// input like any file, so each record is checked before the studio relies on it.

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isOptionalString = (v: unknown) => v === undefined || typeof v === 'string';

function isModelSource(v: unknown): boolean {
  if (!isRecord(v)) return false;
  if (v.kind === 'url') return typeof v.baseUrl === 'string' && typeof v.name === 'string';
  if (v.kind === 'hub')
    return typeof v.repo === 'string' && isOptionalString(v.revision) && isOptionalString(v.baseUrl);
  // Dropped files cannot be loaded again from storage (and are never saved).
  return false;
}

function isDataset(v: unknown): boolean {
  if (!isRecord(v) || typeof v.fileName !== 'string' || !(v.bytes instanceof Uint8Array)) return false;
  const m = v.mapping;
  const column = (c: unknown) => c === null || typeof c === 'string';
  return isRecord(m) && typeof m.text === 'string' && column(m.textPair) && column(m.label);
}

/**
 * A stored project, field by field: a malformed field is left out (the rest still loads), so a
 * damaged dataset entry does not cost the user their run history. Not a record at all: null.
 */
export function parseStoredProject(value: unknown): ProjectRecord | null {
  if (!isRecord(value)) return null;
  const project: ProjectRecord = {};
  if (value.dataset === null || isDataset(value.dataset)) project.dataset = value.dataset as ProjectRecord['dataset'];
  const model = value.model;
  if (model === null || (isRecord(model) && typeof model.name === 'string' && isModelSource(model.source)))
    project.model =
      model === null
        ? null
        : // Chosen "never" when the time is missing: a saved trained model then wins, as it should.
          ({
            ...model,
            at: typeof model.at === 'number' && Number.isFinite(model.at) ? model.at : 0,
          } as ProjectRecord['model']);
  if ('ui' in value) project.ui = value.ui;
  if (Array.isArray(value.runs)) project.runs = value.runs;
  if (typeof value.updatedAt === 'number' && Number.isFinite(value.updatedAt)) project.updatedAt = value.updatedAt;
  return project;
}

/**
 * A stored run checkpoint, or null when it is not one (it then counts as absent: the run cannot be
 * resumed, and a new one can start). The request is checked only for its shape; starting the run
 * validates its contents as it validates any request.
 */
export function parseStoredCheckpoint(value: unknown): RunCheckpoint | null {
  if (!isRecord(value)) return null;
  const { runId, step, savedAt, request, model, state } = value;
  const ok =
    typeof runId === 'string' &&
    Number.isSafeInteger(step) &&
    (step as number) >= 0 &&
    typeof savedAt === 'number' &&
    Number.isFinite(savedAt) &&
    isRecord(request) &&
    Array.isArray(request.train) &&
    isRecord(model) &&
    typeof model.name === 'string' &&
    typeof model.source === 'string' &&
    state instanceof Uint8Array;
  if (!ok) return null;
  // Charts are a nicety: a malformed history is dropped, the checkpoint itself still resumes.
  const history = isRecord(value.history) ? value.history : null;
  const wellFormed =
    history !== null &&
    Array.isArray(history.losses) &&
    Array.isArray(history.lrPoints) &&
    Array.isArray(history.evaluations);
  return {
    ...(value as unknown as RunCheckpoint),
    history: wellFormed ? (history as unknown as RunHistory) : { losses: [], lrPoints: [], evaluations: [] },
  };
}

/** A stored model as written by saveModel, or null when the record is malformed. */
function parseStoredModel(value: unknown): SavedModel | null {
  if (!isRecord(value) || typeof value.name !== 'string' || !isRecord(value.files)) return null;
  if (!Object.values(value.files).every((bytes) => bytes instanceof Uint8Array)) return null;
  if (typeof value.savedAt !== 'number' || !(value.runId === null || typeof value.runId === 'string')) return null;
  return value as unknown as SavedModel;
}

/** The newest of the well-formed checkpoints, without its state and request. */
function newest(records: unknown[]): Omit<RunCheckpoint, 'state' | 'request'> | null {
  const valid = records.map(parseStoredCheckpoint).filter((c): c is RunCheckpoint => c !== null);
  const latest = valid.sort((a, b) => b.savedAt - a.savedAt)[0];
  return latest
    ? { runId: latest.runId, step: latest.step, savedAt: latest.savedAt, model: latest.model, history: latest.history }
    : null;
}

/** A quota error, in any of the shapes browsers throw it. */
function isQuotaError(error: unknown): boolean {
  const name = (error as { name?: string })?.name;
  return name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED';
}

function storageFull(what: string): EngineError {
  return new EngineError(
    'STORAGE_FULL',
    `The browser's storage for this site is full, so ${what} could not be saved; what was saved before is kept. Free space (Model panel: "Clear saved project", or remove other sites' data), or export your model now.`,
  );
}

/** Merges a patch into a project record. */
function merge(current: ProjectRecord | null, patch: ProjectRecord): ProjectRecord {
  const next: ProjectRecord = { ...(current ?? {}) };
  for (const [key, value] of Object.entries(patch)) {
    if (value !== undefined) (next as Record<string, unknown>)[key] = value;
  }
  next.updatedAt = Date.now();
  return next;
}

/** The project in IndexedDB (database `fewshot-studio`). */
export function indexedDbProjectStore(
  name = 'fewshot-studio',
): ProjectStore & { failNextWrite: (error: unknown) => void } {
  let db: Promise<IDBPDatabase> | null = null;
  // Test builds can make the next write fail as a full quota would (it cannot be caused here for real).
  let failure: unknown = null;
  const open = () =>
    (db ??= openDB(name, 1, {
      upgrade(database) {
        database.createObjectStore('project');
        database.createObjectStore('checkpoints', { keyPath: 'runId' });
        database.createObjectStore('models');
      },
    }));
  const write = async (what: string, run: (database: IDBPDatabase) => Promise<unknown>) => {
    try {
      if (failure !== null) {
        const error = failure;
        failure = null;
        throw error;
      }
      await run(await open());
    } catch (error) {
      if (isQuotaError(error)) throw storageFull(what);
      throw error;
    }
  };
  return {
    failNextWrite: (error) => (failure = error),
    async loadProject() {
      return parseStoredProject(await (await open()).get('project', PROJECT_KEY));
    },
    async saveProject(patch) {
      await write('the project', async (database) => {
        const tx = database.transaction('project', 'readwrite');
        const current = parseStoredProject(await tx.store.get(PROJECT_KEY));
        await tx.store.put(merge(current, patch), PROJECT_KEY);
        await tx.done;
      });
    },
    async saveCheckpoint(checkpoint) {
      await write(`the checkpoint at step ${checkpoint.step}`, (database) => database.put('checkpoints', checkpoint));
    },
    async loadCheckpoint(runId) {
      return parseStoredCheckpoint(await (await open()).get('checkpoints', runId));
    },
    async latestCheckpoint() {
      return newest(await (await open()).getAll('checkpoints'));
    },
    async removeCheckpoint(runId) {
      await (await open()).delete('checkpoints', runId);
    },
    async saveModel(model) {
      await write(`the trained model ${model.name}`, async (database) => {
        const tx = database.transaction('models', 'readwrite');
        await tx.store.put(model, modelKey(model));
        // Oldest out first, in the same transaction: the space stays bounded.
        const all = (await tx.store.getAll()) as SavedModel[];
        const old = all.sort((a, b) => b.savedAt - a.savedAt).slice(MAX_SAVED_MODELS);
        for (const m of old) await tx.store.delete(modelKey(m));
        await tx.done;
      });
    },
    async loadModel(runId) {
      const database = await open();
      if (runId !== undefined) return parseStoredModel(await database.get('models', runId));
      const all = (await database.getAll('models')).map(parseStoredModel).filter((m) => m !== null);
      return all.sort((a, b) => b.savedAt - a.savedAt)[0] ?? null;
    },
    async savedRunModels() {
      const keys = await (await open()).getAllKeys('models');
      return keys.map(String).filter((k) => !k.startsWith('model-'));
    },
    async removeRun(runId) {
      const database = await open();
      await database.delete('checkpoints', runId);
      await database.delete('models', runId);
    },
    async clear() {
      const database = await open();
      await database.clear('project');
      await database.clear('checkpoints');
      await database.clear('models');
    },
  };
}

/** The same store in memory (Node tests; a browser without IndexedDB keeps the session only). */
export function memoryProjectStore(): ProjectStore & { failNextWrite: (error: unknown) => void } {
  let project: ProjectRecord | null = null;
  const checkpoints = new Map<string, RunCheckpoint>();
  const models = new Map<string, SavedModel>();
  let failure: unknown = null;
  const failIfAsked = (what: string) => {
    if (failure === null) return;
    const error = failure;
    failure = null;
    if (isQuotaError(error)) throw storageFull(what);
    throw error;
  };
  return {
    failNextWrite: (error) => (failure = error),
    async loadProject() {
      return parseStoredProject(structuredClone(project));
    },
    async saveProject(patch) {
      failIfAsked('the project');
      project = merge(project, structuredClone(patch));
    },
    async saveCheckpoint(checkpoint) {
      failIfAsked(`the checkpoint at step ${checkpoint.step}`);
      checkpoints.set(checkpoint.runId, structuredClone(checkpoint));
    },
    async loadCheckpoint(runId) {
      return parseStoredCheckpoint(structuredClone(checkpoints.get(runId)));
    },
    async latestCheckpoint() {
      return newest([...checkpoints.values()]);
    },
    async removeCheckpoint(runId) {
      checkpoints.delete(runId);
    },
    async saveModel(model) {
      failIfAsked(`the trained model ${model.name}`);
      models.set(modelKey(model), structuredClone(model));
      const old = [...models.values()].sort((a, b) => b.savedAt - a.savedAt).slice(MAX_SAVED_MODELS);
      for (const m of old) models.delete(modelKey(m));
    },
    async loadModel(runId) {
      const found =
        runId !== undefined ? models.get(runId) : [...models.values()].sort((a, b) => b.savedAt - a.savedAt)[0];
      return found ? structuredClone(found) : null;
    },
    async savedRunModels() {
      return [...models.keys()].filter((k) => !k.startsWith('model-'));
    },
    async removeRun(runId) {
      checkpoints.delete(runId);
      models.delete(runId);
    },
    async clear() {
      project = null;
      checkpoints.clear();
      models.clear();
    },
  };
}

/** Usage and quota of this origin's storage, and whether it is persistent. */
export async function storageInfo(): Promise<StorageInfo> {
  const storage = typeof navigator !== 'undefined' ? navigator.storage : undefined;
  if (!storage?.estimate) return { usage: null, quota: null, persisted: null };
  const [estimate, persisted] = await Promise.all([storage.estimate(), storage.persisted?.() ?? null]);
  return { usage: estimate.usage ?? null, quota: estimate.quota ?? null, persisted };
}
