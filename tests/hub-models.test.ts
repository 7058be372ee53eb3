/**
 * The Model panel's Hub list (src/ui/hubModels.ts): one entry per repository, sizes and parameter
 * counts that agree (float32: 4 bytes a parameter, as the Hub lists the weights file), and models
 * beyond English: Chinese ones and multilingual ones (docs/USER_GUIDE.md, "Other languages").
 */
import { describe, expect, it } from 'vitest';
import { HUB_MODELS } from '../src/ui/hubModels';

/** "4.4M" → 4_400_000; "412 MB" → 412_000_000. */
function amount(text: string, unit: 'M' | ' MB'): number {
  expect(text, `${text} ends in "${unit}"`).toMatch(unit === 'M' ? /^\d+(\.\d+)?M$/ : /^\d+(\.\d+)? MB$/);
  return Number.parseFloat(text) * 1e6;
}

describe('Hub model list', () => {
  it('names each repository once, as owner/name', () => {
    const repos = HUB_MODELS.map((m) => m.repo);
    expect(new Set(repos).size).toBe(repos.length);
    for (const repo of repos) expect(repo).toMatch(/^[\w.-]+\/[\w.-]+$/);
  });

  it.each(HUB_MODELS.map((m) => [m.repo, m] as const))('%s: size is its float32 parameters (±5 %%)', (_, m) => {
    const bytes = amount(m.size, ' MB');
    const params = amount(m.params, 'M');
    expect(Math.abs(bytes - 4 * params) / bytes).toBeLessThan(0.05);
  });

  it('offers the small English sentence-embedding BERTs SetFit is meant for (docs/SETFIT.md)', () => {
    const english = HUB_MODELS.filter((m) => m.language === 'English').map((m) => m.repo);
    expect(english).toEqual(
      expect.arrayContaining([
        'sentence-transformers/all-MiniLM-L6-v2',
        'sentence-transformers/paraphrase-MiniLM-L3-v2',
        'BAAI/bge-small-en-v1.5',
        'intfloat/e5-small-v2',
      ]),
    );
  });

  it('offers Chinese and many-language BERT models, with a small Chinese sentence-embedding one', () => {
    const chinese = HUB_MODELS.filter((m) => m.language === 'Chinese').map((m) => m.repo);
    expect(chinese).toEqual(expect.arrayContaining(['google-bert/bert-base-chinese', 'BAAI/bge-small-zh-v1.5']));
    const multilingual = HUB_MODELS.filter((m) => /^\d+ languages$/.test(m.language)).map((m) => m.repo);
    expect(multilingual).toContain('google-bert/bert-base-multilingual-cased');
    // The smallest Chinese model is one a browser can fine-tune (under 100 MB of weights).
    expect(
      Math.min(...HUB_MODELS.filter((m) => m.language === 'Chinese').map((m) => amount(m.size, ' MB'))),
    ).toBeLessThan(100e6);
  });
});
