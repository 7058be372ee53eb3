/**
 * Fuzzing the tokenizer files (src/engine/tokenizer): vocab.txt, tokenizer.json and
 * tokenizer_config.json, parsed directly and read from a checkpoint folder. A tokenizer that
 * loads must work: every id it produces is in its vocabulary and every type id is a non-negative
 * integer. A valid tokenizer.json must tokenize exactly like vocab.txt with the same vocabulary.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadCheckpointFiles } from '../../src/engine/checkpoint/load';
import { writeSafetensors } from '../../src/engine/checkpoint/safetensors';
import { BertTokenizer, parseVocabTxt, type HfTokenizerConfigJson } from '../../src/engine/tokenizer';
import { vocabToTxt } from '../../src/engine/tokenizer/vocab';
import {
  MINIMAL_CONFIG,
  RUNS,
  applyByteEdits,
  byteEdit,
  interestingJson,
  memorySource,
  mutatedJson,
  runCase,
  runCaseAsync,
  utf8,
} from './support';

const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const LETTERS = [...'abcdefghijklmnopqrstuvwxyz'];
/** A small uncased WordPiece vocabulary: specials first, as in BERT's vocab.txt. */
const VOCAB = [
  ...SPECIALS,
  ...LETTERS,
  ...LETTERS.map((c) => `##${c}`),
  ...['the', 'un', '##want', '##ed', 'play', '##ing', ',', '.', '!', '?', "'", 'é', '中'],
];
const VOCAB_TXT = VOCAB.join('\n') + '\n';

/** bert-base-uncased's tokenizer.json with VOCAB as its vocabulary (specials at their VOCAB ids). */
function tokenizerJsonFor(vocab: readonly string[]): Record<string, unknown> {
  const json = JSON.parse(
    readFileSync('tests/fixtures/tokenizer/bert-base-uncased.tokenizer-without-vocab.json', 'utf8'),
  ) as {
    added_tokens: { id: number; content: string }[];
    post_processor: { special_tokens: Record<string, { ids: number[] }> };
    model: { vocab: Record<string, number> };
  };
  const idOf = (token: string) => vocab.indexOf(token);
  for (const added of json.added_tokens) added.id = idOf(added.content);
  for (const [token, special] of Object.entries(json.post_processor.special_tokens)) special.ids = [idOf(token)];
  json.model.vocab = Object.fromEntries(vocab.map((token, id) => [token, id]));
  return json as unknown as Record<string, unknown>;
}
const TOKENIZER_JSON = tokenizerJsonFor(VOCAB);

const TOKENIZER_CONFIG: HfTokenizerConfigJson = {
  tokenizer_class: 'BertTokenizer',
  do_lower_case: true,
  model_max_length: 512,
  unk_token: '[UNK]',
  sep_token: '[SEP]',
  pad_token: '[PAD]',
  cls_token: '[CLS]',
  mask_token: { content: '[MASK]' },
  additional_special_tokens: [],
  added_tokens_decoder: { '0': { content: '[PAD]', special: true } },
};

/** Texts every loaded tokenizer must encode: ASCII, accents, CJK, emoji, control and odd spaces. */
const PROBES = ['The unwanted, played! newtoken', 'Éa 中文 🙂', '[MASK] [CLS]x', '\u0000\t\u00a0 a\u200b', ''];
const text = fc.oneof(
  fc.string({ maxLength: 30, unit: 'grapheme' }),
  fc.string({ maxLength: 30, unit: fc.constantFrom(...'ab ##,.!é中[]MASK\t'.split('')) }),
);

/** A tokenizer that loaded must keep every id in its vocabulary and every type id valid. */
function checkTokenizer(tokenizer: BertTokenizer, extra: string[] = []): void {
  for (const input of [...PROBES, ...extra]) {
    for (const encoding of [tokenizer.encode(input), tokenizer.encode(input, 'a pair')]) {
      expect(encoding.tokenTypeIds.length).toBe(encoding.ids.length);
      expect(encoding.attentionMask.length).toBe(encoding.ids.length);
      for (const id of encoding.ids) {
        if (!(Number.isInteger(id) && id >= 0 && id < tokenizer.vocabSize))
          expect.fail(`id ${id} outside a vocabulary of ${tokenizer.vocabSize}`);
      }
      for (const type of encoding.tokenTypeIds) {
        if (!(Number.isInteger(type) && type >= 0)) expect.fail(`type id ${type}`);
      }
      expect(typeof tokenizer.decode(encoding.ids)).toBe('string');
    }
  }
}

/** Unique vocab.txt tokens (one line each: no LF, no trailing CR), with or without the specials. */
const vocabTokens = fc
  .tuple(
    fc.uniqueArray(
      fc
        .string({ maxLength: 6, unit: 'grapheme' })
        .filter((t) => !t.includes('\n') && !t.endsWith('\r') && !SPECIALS.includes(t)),
      { minLength: 1, maxLength: 20 },
    ),
    fc.boolean(),
  )
  .map(([tokens, specials]) => (specials ? [...SPECIALS, ...tokens] : tokens));

describe('fuzz: tokenizer files', () => {
  it('reads vocab.txt exactly (LF or CRLF, BOM or not) and writes it back', () => {
    fc.assert(
      fc.property(vocabTokens, fc.boolean(), fc.boolean(), (tokens, crlf, bom) => {
        // An all-blank file is no vocabulary at all.
        fc.pre(tokens.some((t) => t.trim() !== ''));
        const txt = (bom ? '\ufeff' : '') + tokens.join(crlf ? '\r\n' : '\n') + '\n';
        const outcome = runCase(() => parseVocabTxt(txt));
        if (!outcome.ok) throw outcome.error;
        expect(outcome.value.idToToken).toEqual(tokens);
        tokens.forEach((t, i) => expect(outcome.value.tokenToId.get(t)).toBe(i));
        expect(vocabToTxt(outcome.value)).toBe(tokens.join('\n') + '\n');
        if (tokens[0] === SPECIALS[0]) checkTokenizer(BertTokenizer.fromVocabTxt(txt));
      }),
      { numRuns: RUNS, seed: 0x70c0_0001 },
    );
  });

  it('tokenizes identically from tokenizer.json and from vocab.txt with the same vocabulary', () => {
    const extraTokens = fc.uniqueArray(
      fc.string({ minLength: 1, maxLength: 5 }).map((t) => t.toLowerCase()),
      {
        maxLength: 10,
      },
    );
    fc.assert(
      fc.property(extraTokens, fc.array(text, { minLength: 1, maxLength: 4 }), (extra, texts) => {
        const vocab = [...new Set([...VOCAB, ...extra.filter((t) => !t.includes('\n') && !t.endsWith('\r'))])];
        const fromJson = runCase(() => BertTokenizer.fromTokenizerJson(tokenizerJsonFor(vocab)));
        const fromTxt = runCase(() => BertTokenizer.fromVocabTxt(vocab.join('\n') + '\n'));
        if (!fromJson.ok) throw fromJson.error;
        if (!fromTxt.ok) throw fromTxt.error;
        for (const t of texts) {
          expect(fromJson.value.encode(t, 'pair text')).toEqual(fromTxt.value.encode(t, 'pair text'));
        }
        checkTokenizer(fromJson.value, texts);
      }),
      { numRuns: RUNS, seed: 0x70c0_0002 },
    );
  });

  it('refuses mutated vocab.txt and tokenizer_config.json with an EngineError, or loads a working tokenizer', () => {
    const vocabTxt = fc.oneof(
      {
        weight: 3,
        arbitrary: fc
          .array(byteEdit, { minLength: 1, maxLength: 4 })
          .map((edits) => new TextDecoder().decode(applyByteEdits(utf8(VOCAB_TXT), edits))),
      },
      // A token listed twice, or a special token missing.
      { weight: 1, arbitrary: fc.nat().map((i) => VOCAB_TXT + VOCAB[i % VOCAB.length] + '\n') },
      { weight: 1, arbitrary: fc.nat().map((i) => VOCAB.filter((_, k) => k !== i % 5).join('\n')) },
      { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
    );
    const config = fc.oneof(
      { weight: 2, arbitrary: fc.constant(TOKENIZER_CONFIG as unknown) },
      { weight: 3, arbitrary: mutatedJson(TOKENIZER_CONFIG) },
      { weight: 1, arbitrary: interestingJson },
    );
    fc.assert(
      fc.property(vocabTxt, config, text, (txt, tokenizerConfig, probe) => {
        const outcome = runCase(() => BertTokenizer.fromVocabTxt(txt, tokenizerConfig as HfTokenizerConfigJson));
        if (outcome.ok) checkTokenizer(outcome.value, [probe]);
      }),
      { numRuns: RUNS, seed: 0x70c0_0003 },
    );
  });

  it('refuses mutated tokenizer.json with an EngineError, or loads a working tokenizer', () => {
    // Structure and vocabulary are mutated apart: the vocabulary's many entries would otherwise
    // draw almost every edit.
    const skeleton = { ...TOKENIZER_JSON, model: { ...(TOKENIZER_JSON.model as object), vocab: {} } };
    const withVocab = (value: unknown) => {
      const model = (value as { model?: unknown } | null)?.model;
      if (model !== null && typeof model === 'object' && !Array.isArray(model))
        (model as { vocab: unknown }).vocab = structuredClone((TOKENIZER_JSON.model as { vocab: unknown }).vocab);
      return value;
    };
    // tokenizer_config.json only adds model_max_length here; mostly absent or intact.
    const tokenizerConfig = fc.oneof(
      { weight: 2, arbitrary: fc.constant({} as unknown) },
      { weight: 1, arbitrary: fc.constant(TOKENIZER_CONFIG as unknown) },
      { weight: 1, arbitrary: mutatedJson(TOKENIZER_CONFIG) },
    );
    const json = fc.oneof(
      { weight: 5, arbitrary: mutatedJson(skeleton).map(withVocab) },
      { weight: 1, arbitrary: mutatedJson(TOKENIZER_JSON) },
      // Vocabulary ids: out of range, beyond array indices, fractional, negative, repeated.
      {
        weight: 2,
        arbitrary: fc
          .tuple(
            fc.nat(),
            fc.constantFrom(-1, 0.5, 7, VOCAB.length, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53, 1e300),
            fc.boolean(),
          )
          .map(([i, id, added]) => {
            // Either an existing token gets another id, or a new token (in PROBES) joins with it.
            const copy = structuredClone(TOKENIZER_JSON) as { model: { vocab: Record<string, number> } };
            copy.model.vocab[added ? 'newtoken' : VOCAB[i % VOCAB.length]] = id;
            return copy;
          }),
      },
      { weight: 1, arbitrary: interestingJson },
    );
    fc.assert(
      fc.property(json, tokenizerConfig, text, (tokenizerJson, tokenizerConfig, probe) => {
        const outcome = runCase(() =>
          BertTokenizer.fromTokenizerJson(tokenizerJson, tokenizerConfig as HfTokenizerConfigJson),
        );
        if (outcome.ok) checkTokenizer(outcome.value, [probe]);
      }),
      { numRuns: RUNS, seed: 0x70c0_0004 },
    );
  });

  it('refuses corrupt tokenizer file bytes in a checkpoint folder with an EngineError', async () => {
    const weights = writeSafetensors([{ name: 'w', shape: [1], data: Float32Array.of(1) }], { dtype: 'F32' });
    const seeds: Record<string, Uint8Array> = {
      'vocab.txt': utf8(VOCAB_TXT),
      'tokenizer.json': utf8(JSON.stringify(TOKENIZER_JSON, null, 1)),
      'tokenizer_config.json': utf8(JSON.stringify(TOKENIZER_CONFIG)),
    };
    const folder = fc
      .record({
        file: fc.constantFrom(...Object.keys(seeds)),
        edits: fc.array(byteEdit, { minLength: 1, maxLength: 4 }),
        withJson: fc.boolean(),
      })
      .map(({ file, edits, withJson }) => {
        const files: Record<string, Uint8Array> = {
          'config.json': utf8(JSON.stringify(MINIMAL_CONFIG)),
          'model.safetensors': weights,
          'vocab.txt': seeds['vocab.txt'],
          'tokenizer_config.json': seeds['tokenizer_config.json'],
        };
        if (withJson || file === 'tokenizer.json') files['tokenizer.json'] = seeds['tokenizer.json'];
        files[file] = applyByteEdits(seeds[file], edits);
        return files;
      });
    await fc.assert(
      fc.asyncProperty(folder, async (files) => {
        const size = Object.values(files).reduce((n, b) => n + b.length, 0);
        const outcome = await runCaseAsync(async () => {
          const read = await loadCheckpointFiles(memorySource(files));
          return BertTokenizer.fromHuggingFaceFiles({
            tokenizerJson: read.tokenizerJson,
            vocabTxt: read.vocabTxt,
            tokenizerConfig: read.tokenizerConfig,
          });
        }, size);
        if (outcome.ok) checkTokenizer(outcome.value);
      }),
      { numRuns: RUNS, seed: 0x70c0_0005 },
    );
  });

  it('still loads and encodes the seed files exactly after the fuzzing (no state left behind)', () => {
    const fromTxt = BertTokenizer.fromVocabTxt(VOCAB_TXT, TOKENIZER_CONFIG);
    const fromJson = BertTokenizer.fromTokenizerJson(TOKENIZER_JSON);
    for (const probe of PROBES) expect(fromJson.encode(probe)).toEqual(fromTxt.encode(probe));
    expect(fromTxt.tokenize('The unwanted')).toEqual(['the', 'un', '##want', '##ed']);
  });
});
