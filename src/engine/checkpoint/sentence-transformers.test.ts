/**
 * sentence-transformers folders through the one checkpoint loader (docs/ARCHITECTURE.md, "Sentence-transformers
 * folders"): unsupported modules and non-BERT bodies are refused by name before any weights are read; the optional
 * files stay optional and nothing but the named JSON files is ever read.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadCheckpointFiles } from './load';
import { createNodeDirSource } from './node-dir';
import type { CheckpointSource } from './source';
import { expectCodeAsync } from './test-fixtures';

const ST_DIR = new URL('../../../tests/fixtures/golden-st/mean-normalize/', import.meta.url);
const fixture = (name: string) => new Uint8Array(readFileSync(new URL(name, ST_DIR)));

const TRANSFORMER = { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' };
const POOLING = { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' };
const NORMALIZE = { idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' };
const DENSE = { idx: 2, name: '2', path: '2_Dense', type: 'sentence_transformers.models.Dense' };
const MEAN = {
  word_embedding_dimension: 32,
  pooling_mode_cls_token: false,
  pooling_mode_mean_tokens: true,
  pooling_mode_max_tokens: false,
  pooling_mode_mean_sqrt_len_tokens: false,
};

/** The golden mean+Normalize folder in memory, with files replaced (a string or object) or removed (null). */
function stSource(changes: Record<string, unknown> = {}, listable = true): CheckpointSource & { reads: string[] } {
  const files: Record<string, Uint8Array> = {
    'config.json': fixture('config.json'),
    'vocab.txt': fixture('vocab.txt'),
    'tokenizer_config.json': fixture('tokenizer_config.json'),
    'model.safetensors': fixture('model.safetensors'),
    'modules.json': fixture('modules.json'),
    '1_Pooling/config.json': fixture('1_Pooling/config.json'),
    'sentence_bert_config.json': fixture('sentence_bert_config.json'),
    'config_sentence_transformers.json': fixture('config_sentence_transformers.json'),
  };
  for (const [name, value] of Object.entries(changes)) {
    if (value === null) delete files[name];
    else files[name] = new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
  }
  const reads: string[] = [];
  return {
    description: 'test folder',
    reads,
    // Like a directory: the top level only, module folders by their names.
    list: async () => (listable ? [...new Set(Object.keys(files).map((name) => name.split('/')[0]))] : null),
    read: async (name) => {
      reads.push(name);
      return files[name] ?? null;
    },
    locate: (name) => `mem://${name}`,
  };
}

const configWith = (fields: Record<string, unknown>) => ({
  ...JSON.parse(new TextDecoder().decode(fixture('config.json'))),
  ...fields,
});

describe('sentence-transformers folders: what is read', () => {
  it('reads the pipeline of the golden folder from a Node directory', async () => {
    const files = await loadCheckpointFiles(createNodeDirSource(ST_DIR.pathname));
    expect(files.sentenceTransformers).toEqual({
      pooling: 'mean',
      normalize: true,
      maxSeqLength: 12,
      doLowerCase: false,
      modules: ['Transformer', 'Pooling', 'Normalize'],
    });
  });

  it.each([true, false])(
    'listable %s: only the named JSON files are read, never other module files',
    async (listable) => {
      const source = stSource({}, listable);
      const files = await loadCheckpointFiles(source);
      expect(files.sentenceTransformers?.pooling).toBe('mean');
      expect(source.reads).toContain('1_Pooling/config.json');
      expect(source.reads).toContain('sentence_bert_config.json');
      expect(source.reads).not.toContain('config_sentence_transformers.json');
      expect(source.reads.some((name) => name.startsWith('2_Normalize'))).toBe(false);
    },
  );

  it('without modules.json none of the sentence-transformers files is read', async () => {
    const source = stSource({ 'modules.json': null });
    const files = await loadCheckpointFiles(source);
    expect(files.sentenceTransformers).toBeUndefined();
    expect(source.reads).not.toContain('1_Pooling/config.json');
    expect(source.reads).not.toContain('sentence_bert_config.json');
  });

  it('sentence_bert_config.json is optional (no max length, no lower-casing)', async () => {
    const files = await loadCheckpointFiles(stSource({ 'sentence_bert_config.json': null }));
    expect(files.sentenceTransformers).toMatchObject({ maxSeqLength: null, doLowerCase: false });
  });

  it('accepts max_seq_length null and reads do_lower_case', async () => {
    const files = await loadCheckpointFiles(
      stSource({ 'sentence_bert_config.json': { max_seq_length: null, do_lower_case: true } }),
    );
    expect(files.sentenceTransformers).toMatchObject({ maxSeqLength: null, doLowerCase: true });
  });

  it('without Normalize the embeddings are not normalized; CLS and max pooling are read', async () => {
    const cls = await loadCheckpointFiles(
      stSource({
        'modules.json': [TRANSFORMER, POOLING],
        '1_Pooling/config.json': { ...MEAN, pooling_mode_mean_tokens: false, pooling_mode_cls_token: true },
      }),
    );
    expect(cls.sentenceTransformers).toMatchObject({ pooling: 'cls', normalize: false });
    const max = await loadCheckpointFiles(
      stSource({
        '1_Pooling/config.json': { ...MEAN, pooling_mode_mean_tokens: false, pooling_mode_max_tokens: true },
      }),
    );
    expect(max.sentenceTransformers).toMatchObject({ pooling: 'max', normalize: true });
  });

  it('a Pooling module whose config is missing is refused, naming the file', async () => {
    await expectCodeAsync(
      loadCheckpointFiles(stSource({ '1_Pooling/config.json': null })),
      'CHECKPOINT_FILE_NOT_FOUND',
      '1_Pooling/config.json',
    );
  });
});

describe('sentence-transformers folders: refusals', () => {
  it.each([
    ['Dense after Pooling', [TRANSFORMER, POOLING, DENSE], 'Dense'],
    ['Normalize after Dense', [TRANSFORMER, POOLING, DENSE, { ...NORMALIZE, idx: 3 }], 'Dense'],
    ['Normalize that is not last', [TRANSFORMER, POOLING, NORMALIZE, { ...DENSE, idx: 3 }], 'Normalize'],
    ['Normalize before Pooling', [TRANSFORMER, NORMALIZE, POOLING], 'Normalize'],
    ['CNN', [TRANSFORMER, { ...POOLING, type: 'sentence_transformers.models.CNN', path: '1_CNN' }, POOLING], 'CNN'],
    ['LSTM', [TRANSFORMER, { ...POOLING, type: 'sentence_transformers.models.LSTM', path: '1_LSTM' }, POOLING], 'LSTM'],
    [
      'WordEmbeddings',
      [{ ...TRANSFORMER, type: 'sentence_transformers.models.WordEmbeddings', path: '0_WordEmbeddings' }, POOLING],
      'WordEmbeddings',
    ],
    [
      'a custom module (code we would have to run)',
      [TRANSFORMER, POOLING, { ...DENSE, type: 'my_pkg.Whitening' }],
      'my_pkg.Whitening',
    ],
    ['a body in a subfolder', [{ ...TRANSFORMER, path: '0_BERT' }, POOLING], '0_BERT'],
    ['no Pooling', [TRANSFORMER], 'Pooling'],
  ])('%s is refused with the module name, before the weights are read', async (_, modules, name) => {
    const source = stSource({ 'modules.json': modules });
    await expectCodeAsync(loadCheckpointFiles(source), 'ST_UNSUPPORTED_MODULE', name);
    expect(source.reads).not.toContain('model.safetensors');
    expect(source.reads.filter((r) => r.includes('/'))).toEqual([]);
  });

  it('a non-BERT body is refused, naming its model_type and architecture, before the weights', async () => {
    const source = stSource({ 'config.json': configWith({ model_type: 'mpnet', architectures: ['MPNetModel'] }) });
    await expectCodeAsync(loadCheckpointFiles(source), 'ST_UNSUPPORTED_BODY', '"mpnet"', 'MPNetModel');
    expect(source.reads).not.toContain('model.safetensors');
  });

  it.each([
    [
      'mean-sqrt-len pooling',
      { ...MEAN, pooling_mode_mean_tokens: false, pooling_mode_mean_sqrt_len_tokens: true },
      'pooling_mode_mean_sqrt_len_tokens',
    ],
    [
      'weighted-mean pooling',
      { ...MEAN, pooling_mode_mean_tokens: false, pooling_mode_weightedmean_tokens: true },
      'weightedmean',
    ],
    [
      'two modes at once',
      { ...MEAN, pooling_mode_cls_token: true },
      'pooling_mode_cls_token and pooling_mode_mean_tokens',
    ],
    ['no mode', { ...MEAN, pooling_mode_mean_tokens: false }, 'no pooling mode'],
    ['an unknown mode', { ...MEAN, pooling_mode_fancy: true }, 'pooling_mode_fancy'],
  ])('%s is refused', async (_, pooling, mention) => {
    await expectCodeAsync(
      loadCheckpointFiles(stSource({ '1_Pooling/config.json': pooling })),
      'ST_UNSUPPORTED_POOLING',
      mention,
    );
  });

  it('bad files are refused with what is wrong', async () => {
    await expectCodeAsync(
      loadCheckpointFiles(stSource({ '1_Pooling/config.json': { ...MEAN, word_embedding_dimension: 384 } })),
      'ST_BAD_POOLING',
      '384',
    );
    await expectCodeAsync(loadCheckpointFiles(stSource({ 'modules.json': { a: 1 } })), 'ST_BAD_MODULES');
    await expectCodeAsync(
      loadCheckpointFiles(stSource({ 'modules.json': '[oops' })),
      'CHECKPOINT_BAD_JSON',
      'modules.json',
    );
    await expectCodeAsync(
      loadCheckpointFiles(stSource({ 'sentence_bert_config.json': { max_seq_length: 0 } })),
      'ST_BAD_CONFIG',
      'max_seq_length',
    );
    await expectCodeAsync(
      loadCheckpointFiles(stSource({ 'sentence_bert_config.json': { do_lower_case: 'yes' } })),
      'ST_BAD_CONFIG',
      'do_lower_case',
    );
  });

  it('a module path that leaves the folder is refused without reading it', async () => {
    const source = stSource({ 'modules.json': [TRANSFORMER, { ...POOLING, path: '../elsewhere' }] });
    await expectCodeAsync(loadCheckpointFiles(source), 'ST_BAD_MODULES', '../elsewhere');
    expect(source.reads.some((r) => r.includes('elsewhere'))).toBe(false);
  });
});
