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
import { EngineError, type ModelSource } from '../engine/studio';
import type { DatasetColumnMapping, TrainingRequest } from './protocol';

/** The project as stored. The worker merges top-level fields; `ui` and `runs` are the UI's own JSON. */
export interface ProjectRecord {
  dataset?: { fileName: string; bytes: Uint8Array; mapping: DatasetColumnMapping } | null;
  /** Where the model came from, when it can be loaded again (embedded or Hub). */
  model?: { source: ModelSource; name: string } | null;
  ui?: unknown;
  runs?: unknown[];
  updatedAt?: number;
}

/** A training run's latest checkpoint. */
export interface RunCheckpoint {
  runId: string;
  /** Optimizer steps done when it was taken. */
  step: number;
  savedAt: number;
  /** What started the run (rows, method, settings): a resumed run is started the same way. */
  request: TrainingRequest;
  /** The model the run trained (by its summary's name and source): resuming needs the same one. */
  model: { name: string; source: string };
  /** The loop state in its one-file form (serializeLoopState). */
  state: Uint8Array;
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
  /** Deletes the project and every checkpoint. */
  clear(): Promise<void>;
}

const PROJECT_KEY = 'current';

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
    project.model = model as ProjectRecord['model'];
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
  return ok ? (value as unknown as RunCheckpoint) : null;
}

/** The newest of the well-formed checkpoints, without its state and request. */
function newest(records: unknown[]): Omit<RunCheckpoint, 'state' | 'request'> | null {
  const valid = records.map(parseStoredCheckpoint).filter((c): c is RunCheckpoint => c !== null);
  const latest = valid.sort((a, b) => b.savedAt - a.savedAt)[0];
  return latest ? { runId: latest.runId, step: latest.step, savedAt: latest.savedAt, model: latest.model } : null;
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
    async clear() {
      const database = await open();
      await database.clear('project');
      await database.clear('checkpoints');
    },
  };
}

/** The same store in memory (Node tests; a browser without IndexedDB keeps the session only). */
export function memoryProjectStore(): ProjectStore & { failNextWrite: (error: unknown) => void } {
  let project: ProjectRecord | null = null;
  const checkpoints = new Map<string, RunCheckpoint>();
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
    async clear() {
      project = null;
      checkpoints.clear();
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
