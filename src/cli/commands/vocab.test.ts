import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BertTokenizer } from '../../engine/tokenizer';
import { runCli } from '../test-support';

describe('fewshot vocab', () => {
  it('writes a vocab.txt that the tokenizer loads, and reports how it splits the corpus', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fewshot-vocab-'));
    writeFileSync(join(dir, 'a.txt'), 'the cat sat on the mat.\nthe dog sat on the log.\n'.repeat(20));
    writeFileSync(join(dir, 'b.txt'), 'a cat and a dog and a mat.\n'.repeat(20));
    const { code, stdout } = await runCli([
      'vocab',
      '--corpus',
      dir,
      '--out',
      join(dir, 'out') + '/',
      '--vocab-size',
      '40',
      '--json',
    ]);
    expect(code).toBe(0);
    const summary = JSON.parse(stdout);
    expect(summary).toMatchObject({
      vocabSize: 40,
      corpus: { files: 2, words: 20 * 14 + 20 * 9 },
      unknownWordShare: 0,
    });
    const tokenizer = BertTokenizer.fromVocabTxt(readFileSync(join(dir, 'out', 'vocab.txt'), 'utf8'));
    expect(tokenizer.vocabSize).toBe(40);
    expect(tokenizer.encode('the cat', null, { addSpecialTokens: false }).tokens).toEqual(['the', 'cat']);
    expect(summary.piecesPerWord).toBeGreaterThanOrEqual(1);
  });

  it('says what is wrong with an empty corpus folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fewshot-vocab-empty-'));
    const { code, stderr } = await runCli(['vocab', '--corpus', dir, '--out', join(dir, 'vocab.txt')]);
    expect(code).toBe(1);
    expect(stderr).toContain('CORPUS_EMPTY');
  });
});
