/**
 * The CJK micro model fixture (tests/fixtures/cjk-micro/model, trained by e2e/studio-chinese.spec.ts)
 * is what its recipe builds, byte for byte, and its tokenizer splits Chinese one character per token
 * with no [UNK] on the rows it is trained on.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModelFromDir } from '../src/engine/studio/node';
import { initNodeBackend } from '../src/engine/tf/node';
import { CJK_MICRO_DIR, buildCjkMicroModel, reviewTexts } from './support/cjk-micro-model';

beforeAll(async () => {
  await initNodeBackend('wasm');
});

describe('CJK micro model fixture', () => {
  it('is exactly what tests/support/cjk-micro-model.ts builds (run scripts/make-cjk-micro-model.ts after a change)', async () => {
    const model = buildCjkMicroModel();
    try {
      const files = await model.exportFiles({ dtype: 'F32' });
      expect(readdirSync(CJK_MICRO_DIR).sort()).toEqual([...files.keys()].sort());
      for (const [name, bytes] of files) {
        expect(Buffer.from(readFileSync(join(CJK_MICRO_DIR, name))).equals(Buffer.from(bytes)), name).toBe(true);
      }
    } finally {
      model.dispose();
    }
  });

  it('loads with tokenize_chinese_chars and splits every Chinese character into its own token', async () => {
    const config = JSON.parse(readFileSync(join(CJK_MICRO_DIR, 'tokenizer_config.json'), 'utf8'));
    expect(config).toMatchObject({ do_lower_case: false, tokenize_chinese_chars: true });
    const model = await loadModelFromDir(CJK_MICRO_DIR);
    try {
      const { tokens, ids } = model.tokenize('这家餐厅的服务很好，我很喜欢！');
      expect(tokens).toEqual([
        '这',
        '家',
        '餐',
        '厅',
        '的',
        '服',
        '务',
        '很',
        '好',
        '，',
        '我',
        '很',
        '喜',
        '欢',
        '！',
      ]);
      expect(ids.every((id) => id > 4)).toBe(true); // none is a special token ([UNK] is 1)
      for (const text of reviewTexts()) {
        const pieces = model.tokenize(text).tokens;
        expect(pieces, text).toEqual([...text]);
      }
      // A character the vocabulary lacks is [UNK], alone: the characters around it are unaffected.
      expect(model.tokenize('好猫好').tokens).toEqual(['好', '[UNK]', '好']);
    } finally {
      model.dispose();
    }
  });
});
