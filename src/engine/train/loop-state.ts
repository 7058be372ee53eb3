/**
 * The training loop's whole state as plain data: float32 arrays (weights, AdamW moments, the best
 * and initial snapshots) plus JSON (step, data position, method state, best-so-far, counters), and
 * its one-file form (a safetensors file with the JSON in its metadata). A run restored from it
 * continues with exactly the losses of the run it was captured from (docs/ARCHITECTURE.md, "Loop
 * state").
 */
import * as tf from '@tensorflow/tfjs';
import type { NamedVariable } from '../bert/params';
import { parseSafetensors, writeSafetensors } from '../checkpoint/safetensors';
import type { RawTensor } from '../checkpoint/types';
import { EngineError } from '../errors';
import type { Fingerprint, JsonValue } from './objective';
import type { AdamW, AdamWState } from './optim';

export const LOOP_STATE_VERSION = 1;

/** The JSON half of a loop state. */
export interface LoopStateJson {
  version: typeof LOOP_STATE_VERSION;
  /** Method that wrote it ('head', 'prompt', 'mlm', ...). */
  kind: string;
  /** Settings that must match to continue (see TrainingLoop.fingerprint). */
  fingerprint: Fingerprint;
  /** Optimizer steps done. */
  step: number;
  /** AdamW's own step counter (its bias correction). */
  optimizerStep: number;
  /** Batch source position (epoch and cursor, or corpus position and masking RNG). */
  data: JsonValue;
  /** Method state beyond the batch source, or null. */
  method: JsonValue;
  evalsWithoutImprovement: number;
  /** Best evaluation so far (its weights are the `best:` tensors when the run keeps them). */
  best: { step: number; score: number; metrics: JsonValue; rows?: number } | null;
  examplesSeen: number;
  tokensSeen: number;
}

export interface StateTensor {
  /** Shape in the engine's layout (Linear weights are [in, out]). */
  shape: number[];
  data: Float32Array;
}

/**
 * Tensors are keyed `param:<name>`, `adam.m:<name>`, `adam.v:<name>`, `best:<name>` and
 * `initial:<name>`, with the Hugging Face parameter names of the trained parameters.
 */
export interface LoopState {
  json: LoopStateJson;
  tensors: Map<string, StateTensor>;
}

interface KeptSnapshot<TMetrics> {
  snapshot: tf.Tensor[];
  step: number;
  metrics: TMetrics;
  score: number;
  /** Held-out rows the score was computed on (absent in states saved before it was kept). */
  rows?: number;
}

/** What a loop keeps besides its weights and optimizer: captured into a state, given back on restore. */
export interface RestoredLoop<TMetrics> {
  step: number;
  data: JsonValue;
  method: JsonValue;
  best: KeptSnapshot<TMetrics> | null;
  initial: tf.Tensor[] | null;
  evalsWithoutImprovement: number;
  examplesSeen: number;
  tokensSeen: number;
}

export interface CaptureInput<TMetrics> extends RestoredLoop<TMetrics> {
  kind: string;
  fingerprint: Fingerprint;
  parameters: readonly NamedVariable[];
  optimizer: AdamW;
}

export async function captureLoopState<TMetrics>(input: CaptureInput<TMetrics>): Promise<LoopState> {
  const tensors = new Map<string, StateTensor>();
  const put = async (key: string, t: tf.Tensor) =>
    tensors.set(key, { shape: t.shape.slice(), data: (await t.data()) as Float32Array });
  for (const p of input.parameters) await put(`param:${p.name}`, p.variable);
  const optimizer = await input.optimizer.exportState();
  for (const slot of optimizer.slots) {
    tensors.set(`adam.m:${slot.name}`, { shape: slot.shape, data: slot.m });
    tensors.set(`adam.v:${slot.name}`, { shape: slot.shape, data: slot.v });
  }
  const snapshots: [string, tf.Tensor[] | null][] = [
    ['best', input.best && input.best.snapshot.length > 0 ? input.best.snapshot : null],
    ['initial', input.initial],
  ];
  for (const [prefix, snapshot] of snapshots) {
    if (snapshot) for (const [i, p] of input.parameters.entries()) await put(`${prefix}:${p.name}`, snapshot[i]);
  }
  return {
    json: {
      version: LOOP_STATE_VERSION,
      kind: input.kind,
      fingerprint: input.fingerprint,
      step: input.step,
      optimizerStep: optimizer.step,
      data: input.data,
      method: input.method,
      evalsWithoutImprovement: input.evalsWithoutImprovement,
      best: input.best
        ? {
            step: input.best.step,
            score: input.best.score,
            metrics: input.best.metrics as JsonValue,
            ...(input.best.rows !== undefined ? { rows: input.best.rows } : {}),
          }
        : null,
      examplesSeen: input.examplesSeen,
      tokensSeen: input.tokensSeen,
    },
    tensors,
  };
}

/** "name: saved X, now Y" for every field whose value differs. */
export function fingerprintDiff(saved: Record<string, unknown>, current: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(saved), ...Object.keys(current)])];
  return keys
    .filter((k) => saved[k] !== current[k])
    .map((k) => `${k}: checkpoint ${JSON.stringify(saved[k])}, now ${JSON.stringify(current[k])}`);
}

export interface RestoreTarget {
  kind: string;
  fingerprint: Fingerprint;
  parameters: readonly NamedVariable[];
  optimizer: AdamW;
}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

interface ValidatedState {
  weights: StateTensor[];
  slots: AdamWState['slots'];
  best: StateTensor[] | null;
  initial: StateTensor[] | null;
}

/**
 * Checks `state` against a run (version, method, settings, every parameter's shape) without
 * changing anything. Throws TRAIN_STATE_MISMATCH (or TRAIN_BAD_STATE) naming what differs.
 */
export function validateLoopState(state: LoopState, target: RestoreTarget): ValidatedState {
  const { json, tensors } = state;
  const mismatch = (what: string) =>
    new EngineError('TRAIN_STATE_MISMATCH', `Cannot continue from this state: ${what}`);
  if (json?.version !== LOOP_STATE_VERSION) {
    throw new EngineError(
      'TRAIN_BAD_STATE',
      `This training state has version ${JSON.stringify(json?.version)}; this version of FewShot Studio reads version ${LOOP_STATE_VERSION}. Start a new run.`,
    );
  }
  if (json.kind !== target.kind) {
    throw mismatch(`it was saved by the "${json.kind}" method and this run uses "${target.kind}".`);
  }
  const diff = fingerprintDiff(json.fingerprint, target.fingerprint);
  if (diff.length > 0) throw mismatch(`it was saved by a run with different settings (${diff.join('; ')}).`);
  const tensorFor = (prefix: string, p: NamedVariable): StateTensor => {
    const t = tensors.get(`${prefix}:${p.name}`);
    if (!t) throw mismatch(`it has no ${prefix} tensor for ${p.name}; was it saved from a different model?`);
    if (!sameShape(t.shape, p.variable.shape) || t.data.length !== p.variable.size) {
      throw mismatch(`${p.name} has shape [${t.shape}] in the state but [${p.variable.shape}] in this model.`);
    }
    return t;
  };
  const known = new Set(target.parameters.map((p) => p.name));
  const unknown = [...tensors.keys()].map((k) => k.slice(k.indexOf(':') + 1)).filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw mismatch(`it has parameters this model does not train: ${[...new Set(unknown)].slice(0, 5).join(', ')}.`);
  }
  const all = (prefix: string) => target.parameters.every((p) => tensors.has(`${prefix}:${p.name}`));
  return {
    weights: target.parameters.map((p) => tensorFor('param', p)),
    slots: target.parameters.map((p) => ({
      name: p.name,
      shape: p.variable.shape.slice(),
      m: tensorFor('adam.m', p).data,
      v: tensorFor('adam.v', p).data,
    })),
    best: all('best') ? target.parameters.map((p) => tensorFor('best', p)) : null,
    initial: all('initial') ? target.parameters.map((p) => tensorFor('initial', p)) : null,
  };
}

/**
 * Validates `state` (validateLoopState) and only then writes weights and optimizer moments;
 * returns the rest for the loop.
 */
export function restoreLoopState<TMetrics>(state: LoopState, target: RestoreTarget): RestoredLoop<TMetrics> {
  const { json } = state;
  const { weights, slots, best, initial } = validateLoopState(state, target);
  target.optimizer.importState({ step: json.optimizerStep, slots });
  target.parameters.forEach((p, i) =>
    tf.tidy(() => p.variable.assign(tf.tensor(weights[i].data, p.variable.shape, 'float32'))),
  );
  const kept = (list: StateTensor[] | null) =>
    list ? list.map((t) => tf.keep(tf.tensor(t.data, t.shape, 'float32'))) : null;
  return {
    step: json.step,
    data: json.data,
    method: json.method,
    best: json.best
      ? {
          snapshot: kept(best) ?? [],
          step: json.best.step,
          score: json.best.score,
          metrics: json.best.metrics as TMetrics,
          ...(Number.isSafeInteger(json.best.rows) ? { rows: json.best.rows } : {}),
        }
      : null,
    initial: kept(initial),
    evalsWithoutImprovement: json.evalsWithoutImprovement,
    examplesSeen: json.examplesSeen,
    tokensSeen: json.tokensSeen,
  };
}

/** The safetensors metadata key holding the JSON half. */
export const LOOP_STATE_METADATA_KEY = 'fewshot_loop_state';

/** One file: every tensor in float32, the JSON in `__metadata__`. */
export function serializeLoopState(state: LoopState): Uint8Array {
  const list: RawTensor[] = [...state.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
  return writeSafetensors(list, {
    dtype: 'F32',
    metadata: { format: 'pt', [LOOP_STATE_METADATA_KEY]: JSON.stringify(state.json) },
  });
}

/**
 * The JSON half of a state file, checked before anything trusts it (the file may come from browser
 * storage or a disk, written by another version or damaged). A state of another version is only
 * checked to be an object with a version: validateLoopState refuses it with a message naming both.
 */
function parseStateJson(raw: string, fileName: string): LoopStateJson {
  const bad = (what: string): never => {
    throw new EngineError('TRAIN_BAD_STATE', `${fileName}: the training state ${what} Start a new run.`);
  };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    bad('metadata is not valid JSON.');
  }
  const isObject = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObject(value) || typeof value.version !== 'number') return bad('metadata is not an object with a version.');
  if (value.version !== LOOP_STATE_VERSION) return value as unknown as LoopStateJson;
  const count = (key: string) => {
    if (!Number.isSafeInteger(value[key]) || (value[key] as number) < 0) bad(`field "${key}" is not a count.`);
  };
  ['step', 'optimizerStep', 'evalsWithoutImprovement', 'examplesSeen', 'tokensSeen'].forEach(count);
  if (typeof value.kind !== 'string') bad('field "kind" is not a string.');
  if (!isObject(value.fingerprint)) bad('field "fingerprint" is not an object.');
  const best = value.best;
  if (best !== null && !(isObject(best) && Number.isSafeInteger(best.step) && typeof best.score === 'number')) {
    bad('field "best" is neither null nor {step, score, metrics}.');
  }
  return value as unknown as LoopStateJson;
}

/** Reads `serializeLoopState` output; TRAIN_BAD_STATE when the file is not one. */
export function deserializeLoopState(bytes: Uint8Array, fileName = 'state.safetensors'): LoopState {
  const { tensors, metadata } = parseSafetensors(bytes, fileName);
  const raw = metadata[LOOP_STATE_METADATA_KEY];
  if (!raw) {
    throw new EngineError(
      'TRAIN_BAD_STATE',
      `${fileName} holds no training state (no ${LOOP_STATE_METADATA_KEY} metadata); it may be a model file or from an older version.`,
    );
  }
  const json = parseStateJson(raw, fileName);
  const map = new Map<string, StateTensor>();
  for (const [name, t] of tensors) map.set(name, { shape: t.shape, data: t.data });
  return { json, tensors: map };
}

/** The JSON half of a state file without building tensors (e.g. to know its step). */
export function readLoopStateJson(bytes: Uint8Array, fileName = 'state.safetensors'): LoopStateJson | null {
  const raw = parseSafetensors(bytes, fileName).metadata[LOOP_STATE_METADATA_KEY];
  return raw ? parseStateJson(raw, fileName) : null;
}
