/**
 * Fuzzing what the studio reads back from browser storage (src/worker/project-store.ts): project
 * and checkpoint records, and the training state inside a checkpoint, a safetensors file with the
 * loop's JSON in its metadata (src/engine/train/loop-state.ts). Records must come back unchanged
 * when well-formed and be dropped field by field (never throw) when not; state files must
 * round-trip exactly or be refused with an EngineError, also by validateLoopState.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { NamedVariable } from '../../src/engine/bert/params';
import { writeSafetensors } from '../../src/engine/checkpoint/safetensors';
import { bitsOf } from '../../src/engine/checkpoint/test-fixtures';
import {
  LOOP_STATE_METADATA_KEY,
  LOOP_STATE_VERSION,
  deserializeLoopState,
  readLoopStateJson,
  serializeLoopState,
  validateLoopState,
  type LoopState,
  type LoopStateJson,
  type RestoreTarget,
} from '../../src/engine/train/loop-state';
import {
  memoryProjectStore,
  parseStoredCheckpoint,
  parseStoredProject,
  type ProjectRecord,
  type RunCheckpoint,
} from '../../src/worker/project-store';
import { RUNS, applyByteEdits, byteEdit, interestingJson, mutatedJson, runCase, runCaseAsync } from './support';

// -------------------------------------------------------------------------------------------------
// Project and checkpoint records

const column = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('text', 'label', '__proto__'));
const validProject: fc.Arbitrary<ProjectRecord> = fc.record(
  {
    dataset: fc.option(
      fc.record({
        fileName: fc.string({ maxLength: 12 }),
        bytes: fc.uint8Array({ maxLength: 32 }),
        mapping: fc.record({ text: column, textPair: fc.option(column), label: fc.option(column) }),
      }),
    ),
    model: fc.option(
      fc.record({
        name: fc.string({ maxLength: 12 }),
        at: fc.integer({ min: 0 }),
        source: fc.oneof(
          fc.record({ kind: fc.constant('url' as const), baseUrl: fc.webUrl(), name: fc.string({ maxLength: 8 }) }),
          fc.record(
            {
              kind: fc.constant('hub' as const),
              repo: fc.string({ maxLength: 12 }),
              revision: fc.string({ maxLength: 8 }),
              baseUrl: fc.webUrl(),
            },
            { requiredKeys: ['kind', 'repo'] },
          ),
        ),
      }),
    ),
    ui: fc.jsonValue({ maxDepth: 2 }),
    runs: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
    updatedAt: fc.integer({ min: 0 }),
  },
  { requiredKeys: [] },
);

const validCheckpoint: fc.Arbitrary<RunCheckpoint> = fc.record({
  runId: fc.string({ maxLength: 10 }),
  step: fc.nat(),
  savedAt: fc.integer({ min: 0 }),
  request: fc.record({
    train: fc.array(fc.record({ text: fc.string({ maxLength: 8 }), label: fc.option(fc.string({ maxLength: 4 })) }), {
      maxLength: 3,
    }),
    dev: fc.constant(null),
    settings: fc.constant({}),
    method: fc.constant({ kind: 'head' }),
  }) as unknown as fc.Arbitrary<RunCheckpoint['request']>,
  model: fc.record({ name: fc.string({ maxLength: 8 }), source: fc.string({ maxLength: 8 }) }),
  state: fc.uint8Array({ maxLength: 32 }),
  history: fc.record({
    losses: fc.array(fc.record({ step: fc.nat(), loss: fc.double() }), { maxLength: 3 }),
    lrPoints: fc.array(fc.record({ step: fc.nat(), lr: fc.double() }), { maxLength: 3 }),
    evaluations: fc.constant([]),
  }),
});

/** Anything a damaged or foreign profile could hold: records with fields edited, and arbitrary values. */
function damaged<T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 4, arbitrary: valid.chain((v) => mutatedJson(v)) },
    { weight: 1, arbitrary: fc.anything({ withTypedArray: true, withDate: true, withMap: true, withSet: true }) },
    { weight: 1, arbitrary: interestingJson },
  );
}

/** Every field a parsed project keeps has the shape the studio relies on. */
function checkProject(p: ProjectRecord): void {
  if (p.dataset != null) {
    expect(typeof p.dataset.fileName).toBe('string');
    expect(p.dataset.bytes).toBeInstanceOf(Uint8Array);
    expect(typeof p.dataset.mapping.text).toBe('string');
    for (const c of [p.dataset.mapping.textPair, p.dataset.mapping.label])
      expect(c === null || typeof c === 'string').toBe(true);
  }
  if (p.model != null) {
    expect(typeof p.model.name).toBe('string');
    expect(['url', 'hub']).toContain(p.model.source.kind);
  }
  if (p.runs !== undefined) expect(Array.isArray(p.runs)).toBe(true);
  if (p.updatedAt !== undefined) expect(Number.isFinite(p.updatedAt)).toBe(true);
}

function checkCheckpoint(c: RunCheckpoint): void {
  expect(typeof c.runId).toBe('string');
  expect(Number.isSafeInteger(c.step) && c.step >= 0).toBe(true);
  expect(Number.isFinite(c.savedAt)).toBe(true);
  expect(Array.isArray((c.request as { train: unknown }).train)).toBe(true);
  for (const series of [c.history.losses, c.history.lrPoints, c.history.evaluations])
    expect(Array.isArray(series)).toBe(true);
  expect(typeof c.model.name).toBe('string');
  expect(typeof c.model.source).toBe('string');
  expect(c.state).toBeInstanceOf(Uint8Array);
}

// -------------------------------------------------------------------------------------------------
// Training state files

const stateJson: fc.Arbitrary<LoopStateJson> = fc.record({
  version: fc.constant(LOOP_STATE_VERSION),
  kind: fc.constantFrom('head', 'prompt', 'mlm'),
  fingerprint: fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(fc.string({ maxLength: 6 }), fc.integer()), {
    maxKeys: 3,
    noNullPrototype: true,
  }),
  step: fc.nat(),
  optimizerStep: fc.nat(),
  data: fc.jsonValue({ maxDepth: 2 }),
  method: fc.jsonValue({ maxDepth: 2 }),
  evalsWithoutImprovement: fc.nat(),
  best: fc.option(
    fc.record({
      step: fc.nat(),
      score: fc.double({ noNaN: true, noDefaultInfinity: true }),
      metrics: fc.jsonValue({ maxDepth: 1 }),
    }),
  ),
  examplesSeen: fc.nat(),
  tokensSeen: fc.nat(),
}) as fc.Arbitrary<LoopStateJson>;

const PARAMS = ['classifier.weight', 'classifier.bias'];
const SHAPES: Record<string, number[]> = { 'classifier.weight': [2, 3], 'classifier.bias': [3] };

/** A state of a run training PARAMS, with or without best/initial snapshots. */
const validState: fc.Arbitrary<LoopState> = fc
  .record({
    json: stateJson,
    prefixes: fc.subarray(['best', 'initial']),
    seed: fc.uint32Array({ minLength: 6, maxLength: 6 }),
  })
  .map(({ json, prefixes, seed }) => {
    const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const prefix of ['param', 'adam.m', 'adam.v', ...prefixes]) {
      for (const name of PARAMS) {
        const size = SHAPES[name].reduce((a, b) => a * b, 1);
        tensors.set(`${prefix}:${name}`, {
          shape: SHAPES[name],
          data: new Float32Array(seed.buffer.slice(0, 4 * size)),
        });
      }
    }
    return { json, tensors };
  });

/** What validateLoopState compares a state with: only names, shapes and sizes are read. */
function targetFor(json: LoopStateJson): RestoreTarget {
  const parameters = PARAMS.map((name) => ({
    name,
    variable: { shape: SHAPES[name], size: SHAPES[name].reduce((a, b) => a * b, 1) },
  })) as unknown as NamedVariable[];
  return {
    kind: json.kind,
    fingerprint: json.fingerprint,
    parameters,
    optimizer: null as unknown as RestoreTarget['optimizer'],
  };
}

/** A state file with the tensors of `state` and `text` as its JSON half. */
function stateFileWithJson(state: LoopState, text: string): Uint8Array {
  const tensors = [...state.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
  return writeSafetensors(tensors, { dtype: 'F32', metadata: { format: 'pt', [LOOP_STATE_METADATA_KEY]: text } });
}

describe('fuzz: project store records and training state files', () => {
  it('keeps well-formed project and checkpoint records exactly, also through the store', async () => {
    await fc.assert(
      fc.asyncProperty(validProject, validCheckpoint, async (project, checkpoint) => {
        const parsed = runCase(() => parseStoredProject(structuredClone(project)));
        expect(parsed.ok && parsed.value).toEqual(project);
        const parsedCheckpoint = runCase(() => parseStoredCheckpoint(structuredClone(checkpoint)));
        expect(parsedCheckpoint.ok && parsedCheckpoint.value).toEqual(checkpoint);

        const store = memoryProjectStore();
        await store.saveProject(project);
        await store.saveCheckpoint(checkpoint);
        const loaded = await runCaseAsync(() => store.loadProject());
        expect(loaded.ok && { ...loaded.value, updatedAt: project.updatedAt }).toEqual({ ...project });
        expect(await store.loadCheckpoint(checkpoint.runId)).toEqual(checkpoint);
        expect(await store.latestCheckpoint()).toEqual({
          runId: checkpoint.runId,
          step: checkpoint.step,
          savedAt: checkpoint.savedAt,
          model: checkpoint.model,
          history: checkpoint.history,
        });
      }),
      { numRuns: RUNS, seed: 0x5707_0001 },
    );
  });

  it('never throws on damaged records: malformed fields are dropped, malformed checkpoints absent', () => {
    fc.assert(
      fc.property(damaged(validProject), damaged(validCheckpoint), (project, checkpoint) => {
        const parsed = runCase(() => parseStoredProject(project));
        expect(parsed.ok).toBe(true);
        if (parsed.ok && parsed.value !== null) checkProject(parsed.value);
        const parsedCheckpoint = runCase(() => parseStoredCheckpoint(checkpoint));
        expect(parsedCheckpoint.ok).toBe(true);
        if (parsedCheckpoint.ok && parsedCheckpoint.value !== null) checkCheckpoint(parsedCheckpoint.value);
      }),
      { numRuns: RUNS, seed: 0x5707_0002 },
    );
  });

  it('round-trips training state files exactly, and validateLoopState accepts them for their run', () => {
    fc.assert(
      fc.property(validState, (state) => {
        const bytes = serializeLoopState(state);
        const outcome = runCase(() => deserializeLoopState(bytes), bytes.length);
        if (!outcome.ok) throw outcome.error;
        // As JSON keeps it (-0 is written as 0).
        const json = JSON.parse(JSON.stringify(state.json));
        expect(outcome.value.json).toEqual(json);
        expect([...outcome.value.tensors.keys()]).toEqual([...state.tensors.keys()]);
        for (const [name, t] of state.tensors)
          expect(bitsOf(outcome.value.tensors.get(name)!.data)).toEqual(bitsOf(t.data));
        expect(readLoopStateJson(bytes)).toEqual(json);
        const validated = runCase(() => validateLoopState(outcome.value, targetFor(state.json)));
        if (!validated.ok) throw validated.error;
      }),
      { numRuns: RUNS, seed: 0x5707_0003 },
    );
  });

  it('refuses damaged training state files with an EngineError, before and in validateLoopState', () => {
    const damagedFile = validState.chain((state) =>
      fc.oneof(
        // The JSON half edited (wrong types, nulls, missing fields) or not JSON at all.
        {
          weight: 3,
          arbitrary: mutatedJson(state.json).map((json) => ({
            state,
            bytes: stateFileWithJson(state, JSON.stringify(json)),
          })),
        },
        {
          weight: 1,
          arbitrary: fc.string({ maxLength: 20 }).map((text) => ({ state, bytes: stateFileWithJson(state, text) })),
        },
        // The file's bytes edited.
        {
          weight: 2,
          arbitrary: fc
            .array(byteEdit, { minLength: 1, maxLength: 4 })
            .map((edits) => ({ state, bytes: applyByteEdits(serializeLoopState(state), edits) })),
        },
      ),
    );
    fc.assert(
      fc.property(damagedFile, ({ state, bytes }) => {
        const outcome = runCase(() => deserializeLoopState(bytes, 'checkpoint of run r'), bytes.length);
        runCase(() => readLoopStateJson(bytes), bytes.length);
        if (outcome.ok) runCase(() => validateLoopState(outcome.value, targetFor(state.json)));
      }),
      { numRuns: RUNS, seed: 0x5707_0004 },
    );
  });

  it('still round-trips a fixed state after the fuzzing (no state left behind)', () => {
    const [state] = fc.sample(validState, { numRuns: 1, seed: 1 });
    const back = deserializeLoopState(serializeLoopState(state));
    expect(back.json).toEqual(JSON.parse(JSON.stringify(state.json)));
    expect(new TextDecoder().decode(serializeLoopState(back))).toContain(LOOP_STATE_METADATA_KEY);
  });
});
