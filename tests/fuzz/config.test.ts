/**
 * Fuzzing config.json validation (src/engine/bert/config.ts, `parseBertConfig`): valid configs
 * must round-trip through the exported form, mutated ones (wrong types, boundaries, huge and
 * fractional numbers, odd label names, absurd label counts) must be refused with an EngineError
 * before anything is allocated, and config.json bytes go through the loader's JSON reading first.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CONFIG_LIMITS,
  HIDDEN_ACTS,
  bertConfigToJson,
  countParameters,
  labelList,
  parseBertConfig,
  type BertConfig,
} from '../../src/engine/bert/config';
import { loadCheckpointFiles } from '../../src/engine/checkpoint/load';
import { writeSafetensors } from '../../src/engine/checkpoint/safetensors';
import { PROMPT_CONFIG_KEY, readPromptConfig } from '../../src/engine/prompt/config';
import {
  MINIMAL_VOCAB,
  RUNS,
  interestingJson,
  memorySource,
  mutatedBytes,
  mutatedJson,
  runCase,
  runCaseAsync,
  utf8,
} from './support';

const EMBEDDED = ['fewshot-tiny', 'fewshot-mini', 'micro-random'].map((name) => `public/models/${name}/config.json`);

/** The required fields of a config.json (sizes of a micro model). */
const MINIMAL_FIELDS = {
  vocab_size: 8,
  hidden_size: 4,
  num_hidden_layers: 1,
  num_attention_heads: 1,
  intermediate_size: 8,
};

/** Label names that trip code which treats an object as a dictionary. */
const labelName = fc.oneof(
  fc.string({ maxLength: 10, unit: 'grapheme' }),
  fc.constantFrom('constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', '0', ' ', 'LABEL_0'),
);

const probability = fc.double({ min: 0, max: 0.99, noNaN: true });

/** Valid config.json objects, with every optional field sometimes present. */
const validConfig = fc
  .record(
    {
      vocab_size: fc.integer({ min: 1, max: 60_000 }),
      heads: fc.integer({ min: 1, max: 16 }),
      headSize: fc.integer({ min: 1, max: 64 }),
      num_hidden_layers: fc.integer({ min: 1, max: 24 }),
      intermediate_size: fc.integer({ min: 1, max: 4096 }),
      max_position_embeddings: fc.integer({ min: 1, max: 4096 }),
      type_vocab_size: fc.integer({ min: 1, max: 4 }),
      hidden_act: fc.constantFrom(...HIDDEN_ACTS, 'gelu_pytorch_tanh'),
      layer_norm_eps: fc.double({ min: 0, max: 1, noNaN: true }),
      hidden_dropout_prob: probability,
      attention_probs_dropout_prob: probability,
      classifier_dropout: fc.option(probability),
      initializer_range: fc.double({ min: 0, max: 10, noNaN: true }),
      pad_token_id: fc.integer({ min: 0, max: 100 }),
      labels: fc.oneof(fc.uniqueArray(labelName, { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 1000 })),
      architectures: fc.array(fc.constantFrom('BertForMaskedLM', 'BertForSequenceClassification'), { maxLength: 2 }),
      model_type: fc.constantFrom('bert', undefined),
    },
    { requiredKeys: ['vocab_size', 'heads', 'headSize', 'num_hidden_layers', 'intermediate_size', 'labels'] },
  )
  .map(({ heads, headSize, labels, ...rest }) => {
    const json: Record<string, unknown> = { ...rest, hidden_size: heads * headSize, num_attention_heads: heads };
    if (json.model_type === undefined) delete json.model_type;
    if (typeof labels === 'number') json.num_labels = labels;
    else json.id2label = Object.fromEntries(labels.map((name, i) => [String(i), name]));
    return {
      json,
      labels: typeof labels === 'number' ? Array.from({ length: labels }, (_, i) => `LABEL_${i}`) : labels,
    };
  });

/** What every accepted config must satisfy, whatever the file said. */
function checkAccepted(c: BertConfig): void {
  const ints = [
    'vocab_size',
    'hidden_size',
    'num_hidden_layers',
    'num_attention_heads',
    'intermediate_size',
    'max_position_embeddings',
    'type_vocab_size',
  ] as const;
  for (const key of ints) {
    expect(Number.isInteger(c[key]) && c[key] >= 1, key).toBe(true);
    expect(c[key]).toBeLessThanOrEqual(CONFIG_LIMITS[key]);
  }
  expect(c.hidden_size % c.num_attention_heads).toBe(0);
  expect(countParameters(c)).toBeLessThanOrEqual(CONFIG_LIMITS.parameters);
  expect(HIDDEN_ACTS).toContain(c.hidden_act);
  for (const p of [c.hidden_dropout_prob, c.attention_probs_dropout_prob, c.classifier_dropout ?? 0])
    expect(p >= 0 && p <= 0.99).toBe(true);
  expect(Number.isInteger(c.pad_token_id) && c.pad_token_id >= 0).toBe(true);
  // id2label and label2id are exact inverses over classes 0..n-1.
  const labels = labelList(c);
  expect(labels.length).toBeGreaterThan(0);
  expect(labels.length).toBeLessThanOrEqual(CONFIG_LIMITS.num_labels);
  expect(Object.keys(c.label2id).length).toBe(labels.length);
  labels.forEach((name, i) => {
    expect(typeof name).toBe('string');
    expect(Object.prototype.hasOwnProperty.call(c.label2id, name)).toBe(true);
    expect(c.label2id[name]).toBe(i);
  });
}

describe('fuzz: config.json', () => {
  it('accepts valid configs, keeps every label (whatever its name) and round-trips the exported form', () => {
    fc.assert(
      fc.property(validConfig, ({ json, labels }) => {
        const outcome = runCase(() => parseBertConfig(json));
        if (!outcome.ok) throw outcome.error;
        const config = outcome.value;
        checkAccepted(config);
        expect(labelList(config)).toEqual(labels);
        for (const key of ['vocab_size', 'hidden_size', 'num_hidden_layers', 'intermediate_size'] as const)
          expect(config[key]).toBe(json[key]);
        // What export writes reads back as the same config, also through JSON text.
        const exported = JSON.parse(JSON.stringify(bertConfigToJson(config)));
        expect(parseBertConfig(exported)).toEqual(config);
      }),
      { numRuns: RUNS, seed: 0xc0f1_0001 },
    );
  });

  it('refuses mutated configs with an EngineError, or returns one that is valid', () => {
    const input = fc.oneof(
      { weight: 4, arbitrary: validConfig.chain(({ json }) => mutatedJson(json)) },
      { weight: 1, arbitrary: interestingJson },
    );
    fc.assert(
      fc.property(input, (json) => {
        const outcome = runCase(() => parseBertConfig(json));
        if (outcome.ok) checkAccepted(outcome.value);
      }),
      { numRuns: RUNS, seed: 0xc0f1_0002 },
    );
  });

  it('refuses absurd sizes and label counts quickly, before allocating for them', () => {
    const huge = fc.oneof(
      fc.integer({ min: 1, max: 2 ** 31 }),
      fc.constantFrom(2 ** 31, 2 ** 32, 2 ** 53 - 1, 1e15, 1e300),
    );
    const field = fc.constantFrom(
      'num_labels',
      'vocab_size',
      'hidden_size',
      'num_hidden_layers',
      'intermediate_size',
      'max_position_embeddings',
      'type_vocab_size',
    );
    fc.assert(
      fc.property(validConfig, field, huge, ({ json }, key, value) => {
        const config = { ...json, [key]: value };
        if (key === 'num_labels') delete config.id2label;
        const outcome = runCase(() => parseBertConfig(config));
        if (outcome.ok) checkAccepted(outcome.value);
      }),
      { numRuns: RUNS, seed: 0xc0f1_0003 },
    );
  });

  it('refuses corrupt config.json bytes in a checkpoint folder with an EngineError', async () => {
    const weights = writeSafetensors([{ name: 'w', shape: [1], data: Float32Array.of(1) }], { dtype: 'F32' });
    const seeds = validConfig.map(({ json }) => utf8(JSON.stringify(json, null, 2)));
    const input = fc.oneof(
      { weight: 3, arbitrary: seeds.chain((bytes) => mutatedBytes(bytes)) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
    );
    await fc.assert(
      fc.asyncProperty(input, async (bytes) => {
        const folder = { 'config.json': bytes, 'vocab.txt': utf8(MINIMAL_VOCAB), 'model.safetensors': weights };
        const outcome = await runCaseAsync(async () => {
          const files = await loadCheckpointFiles(memorySource(folder));
          return parseBertConfig(files.configJson);
        }, bytes.length);
        if (outcome.ok) checkAccepted(outcome.value);
      }),
      { numRuns: RUNS, seed: 0xc0f1_0004 },
    );
  });

  it('reads the saved cloze prompt (fewshot_prompt) exactly, and refuses mutated ones with an EngineError', () => {
    const template = fc
      .tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), fc.boolean())
      .map(
        ([a, b, pair]) =>
          `{text}${pair ? ' {text_pair}' : ''} ${a.replace(/[{}]/g, '')} [MASK] ${b.replace(/[{}]/g, '')}`,
      );
    const prompt = fc.record({
      template,
      verbalizer: fc
        .uniqueArray(
          fc.tuple(labelName, fc.array(fc.string({ minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 3 })),
          {
            selector: ([label]) => label,
            minLength: 1,
            maxLength: 5,
          },
        )
        .map((entries) => Object.fromEntries(entries)),
      calibrate: fc.boolean(),
    });
    const input = fc.oneof(
      {
        weight: 2,
        arbitrary: prompt.map((p) => ({ valid: true, json: { ...MINIMAL_FIELDS, [PROMPT_CONFIG_KEY]: p } })),
      },
      {
        weight: 3,
        arbitrary: prompt
          .chain((p) => mutatedJson(p))
          .map((p) => ({ valid: false, json: { ...MINIMAL_FIELDS, [PROMPT_CONFIG_KEY]: p } })),
      },
    );
    fc.assert(
      fc.property(input, ({ valid, json }) => {
        const outcome = runCase(() => readPromptConfig(json));
        if (valid) {
          if (!outcome.ok) throw outcome.error;
          const saved = json[PROMPT_CONFIG_KEY] as { template: string; verbalizer: Record<string, string[]> };
          expect(outcome.value!.template).toBe(saved.template);
          // Every label survives, in the order the file lists them (their class order).
          expect(Object.keys(outcome.value!.verbalizer)).toEqual(Object.keys(saved.verbalizer));
          expect(Object.entries(outcome.value!.verbalizer)).toEqual(Object.entries(saved.verbalizer));
        } else if (outcome.ok && outcome.value !== null) {
          for (const words of Object.values(outcome.value.verbalizer))
            expect(Array.isArray(words) && words.every((w) => typeof w === 'string')).toBe(true);
        }
      }),
      { numRuns: RUNS, seed: 0xc0f1_0005 },
    );
  });

  it('still reads the embedded models’ configs after the fuzzing (no state left behind)', () => {
    for (const path of EMBEDDED) {
      const json = JSON.parse(readFileSync(path, 'utf8'));
      const config = parseBertConfig(json);
      expect(config.vocab_size).toBe(json.vocab_size);
      expect(config.hidden_size).toBe(json.hidden_size);
      checkAccepted(config);
    }
  });
});
