import { describe, expect, it } from 'vitest';
import { EngineError } from '../errors';
import {
  BERT_PRESETS,
  bertConfigToJson,
  bertPreset,
  countParameters,
  estimateBytes,
  numLabels,
  parseBertConfig,
} from './config';

const base = {
  vocab_size: 30522,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
};

function engineError(fn: () => unknown): EngineError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    return e as EngineError;
  }
  throw new Error('expected an EngineError');
}

describe('parseBertConfig', () => {
  it('fills HF defaults', () => {
    const c = parseBertConfig(base);
    expect(c.hidden_act).toBe('gelu');
    expect(c.max_position_embeddings).toBe(512);
    expect(c.layer_norm_eps).toBe(1e-12);
    expect(c.type_vocab_size).toBe(2);
    expect(numLabels(c)).toBe(2);
    expect(c.id2label).toEqual({ 0: 'LABEL_0', 1: 'LABEL_1' });
  });

  it('bert-base has ~110 M parameters (+ MLM head and classifier)', () => {
    const c = parseBertConfig(base);
    // BertModel (with pooler) is 109,482,240; MLM transform+LN+bias 623,930; classifier 1,538.
    expect(countParameters(c)).toBe(109_482_240 + 768 * 768 + 768 + 2 * 768 + 30522 + 768 * 2 + 2);
    expect(estimateBytes(c)).toBe(countParameters(c) * 4);
    expect(estimateBytes(c, 'training')).toBe(countParameters(c) * 16);
  });

  it('refuses a missing required field, naming it', () => {
    const { hidden_size: _drop, ...rest } = base;
    const e = engineError(() => parseBertConfig(rest, 'my/config.json'));
    expect(e.code).toBe('CONFIG_MISSING_FIELD');
    expect(e.message).toContain('hidden_size');
    expect(e.message).toContain('my/config.json');
  });

  it('refuses non-integers', () => {
    const e = engineError(() => parseBertConfig({ ...base, num_hidden_layers: 2.5 }));
    expect(e.code).toBe('CONFIG_BAD_VALUE');
    expect(e.message).toContain('num_hidden_layers');
    expect(engineError(() => parseBertConfig({ ...base, vocab_size: '30522' })).code).toBe('CONFIG_BAD_VALUE');
  });

  it('refuses absurd sizes before allocating, with parameter count and memory in the message', () => {
    const e = engineError(() => parseBertConfig({ ...base, hidden_size: 1_000_000, num_attention_heads: 16 }));
    expect(e.code).toBe('CONFIG_TOO_LARGE');
    expect(e.message).toContain('hidden_size');
    expect(e.message).toMatch(/parameters/);
    expect(e.message).toMatch(/\d+(\.\d+)? (TB|GB|PB)/);
    // Within every per-field limit, but too many parameters in total.
    const big = engineError(() =>
      parseBertConfig({
        ...base,
        hidden_size: 8192,
        num_attention_heads: 64,
        intermediate_size: 32768,
        num_hidden_layers: 100,
      }),
    );
    expect(big.code).toBe('CONFIG_TOO_LARGE');
    expect(big.message).toMatch(/parameters/);
  });

  it('refuses an unknown activation', () => {
    const e = engineError(() => parseBertConfig({ ...base, hidden_act: 'swish' }));
    expect(e.code).toBe('CONFIG_BAD_ACTIVATION');
    expect(e.message).toContain('swish');
    expect(parseBertConfig({ ...base, hidden_act: 'gelu_pytorch_tanh' }).hidden_act).toBe('gelu_new');
    expect(parseBertConfig({ ...base, hidden_act: 'relu' }).hidden_act).toBe('relu');
  });

  it('refuses hidden_size not divisible by num_attention_heads', () => {
    const e = engineError(() => parseBertConfig({ ...base, num_attention_heads: 7 }));
    expect(e.code).toBe('CONFIG_HEADS_MISMATCH');
    expect(e.message).toMatch(/768.*7/);
  });

  it('refuses other model types and relative positions', () => {
    expect(engineError(() => parseBertConfig({ ...base, model_type: 'roberta' })).code).toBe('CONFIG_UNSUPPORTED');
    expect(engineError(() => parseBertConfig({ ...base, position_embedding_type: 'relative_key' })).code).toBe(
      'CONFIG_UNSUPPORTED',
    );
    expect(engineError(() => parseBertConfig([])).code).toBe('CONFIG_NOT_OBJECT');
  });

  it('refuses two classes with the same name (their probabilities would collapse)', () => {
    const e = engineError(() => parseBertConfig({ ...base, id2label: { 0: 'spam', 1: 'ham', 2: 'spam' } }));
    expect(e.code).toBe('CONFIG_DUPLICATE_LABEL');
    expect(e.message).toMatch(/"spam" twice \(keys "0" and "2"\)/);
  });

  it('reads id2label / num_labels and round-trips through bertConfigToJson', () => {
    const c = parseBertConfig({ ...base, id2label: { 0: 'neg', 1: 'neu', 2: 'pos' } });
    expect(numLabels(c)).toBe(3);
    expect(c.label2id).toEqual({ neg: 0, neu: 1, pos: 2 });
    expect(numLabels(parseBertConfig({ ...base, num_labels: 5 }))).toBe(5);
    expect(engineError(() => parseBertConfig({ ...base, id2label: { 1: 'a' } })).code).toBe('CONFIG_BAD_VALUE');
    expect(parseBertConfig(bertConfigToJson(c))).toEqual(c);
  });

  it('presets are valid and ordered by size', () => {
    const sizes = BERT_PRESETS.map((p) => countParameters(bertPreset(p)));
    expect([...sizes].sort((a, b) => a - b)).toEqual(sizes);
    expect(bertPreset('micro').hidden_size).toBe(32);
    expect(bertPreset('micro').num_hidden_layers).toBe(2);
    expect(bertPreset('tiny')).toMatchObject({ hidden_size: 128, num_hidden_layers: 2, num_attention_heads: 2 });
    expect(bertPreset('base')).toMatchObject({ hidden_size: 768, num_hidden_layers: 12, intermediate_size: 3072 });
  });
});
