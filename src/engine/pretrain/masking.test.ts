import { describe, expect, it } from 'vitest';
import { BertTokenizer } from '../tokenizer';
import { Rng } from '../util/rng';
import { maskBatch, maskVocabFromTokenizer } from './masking';
import { goldenTokenizer } from './test-support';

describe('dynamic masking', () => {
  const tok = goldenTokenizer();
  const vocab = maskVocabFromTokenizer(tok);

  it('masks ≈15% of non-special tokens, 80/10/10, never specials or padding', () => {
    const rng = new Rng(7);
    const gen = new Rng(8);
    const seqs = Array.from({ length: 2000 }, () => {
      const n = 100 + gen.nextInt(26);
      return [
        tok.clsTokenId,
        ...Array.from({ length: n }, () => vocab.randomPool[gen.nextInt(vocab.randomPool.length)]),
        tok.sepTokenId,
      ];
    });
    const T = 128;
    let candidates = 0,
      masked = 0;
    const kinds = [0, 0, 0];
    let changedUnchanged = 0;
    for (let i = 0; i < seqs.length; i += 50) {
      const batch = seqs.slice(i, i + 50);
      const m = maskBatch(batch, T, vocab, rng);
      candidates += batch.reduce((s, q) => s + q.length - 2, 0);
      masked += m.count;
      expect(m.positions.length % 16).toBe(0);
      for (let k = 0; k < m.count; k++) {
        const flat = m.positions[k];
        const [b, t] = [Math.floor(flat / T), flat % T];
        expect(t).toBeGreaterThan(0);
        expect(t).toBeLessThan(batch[b].length - 1);
        expect(m.labels[k]).toBe(batch[b][t]);
        kinds[m.kinds[k]]++;
        if (m.kinds[k] === 0) expect(m.inputIds[flat]).toBe(tok.maskTokenId);
        if (m.kinds[k] === 2) expect(m.inputIds[flat]).toBe(batch[b][t]);
        if (m.kinds[k] === 1) expect(vocab.special.has(m.inputIds[flat])).toBe(false);
        if (m.kinds[k] === 2 && m.inputIds[flat] !== batch[b][t]) changedUnchanged++;
      }
      for (let k = m.count; k < m.positions.length; k++) expect(m.weights[k]).toBe(0);
      // unmasked tokens are untouched, padding is [PAD] with attention 0
      const maskedSet = new Set(Array.from(m.positions.slice(0, m.count)));
      batch.forEach((q, b) => {
        for (let t = 0; t < T; t++) {
          if (t >= q.length) expect([m.inputIds[b * T + t], m.attentionMask[b * T + t]]).toEqual([tok.padTokenId, 0]);
          else if (!maskedSet.has(b * T + t)) expect(m.inputIds[b * T + t]).toBe(q[t]);
        }
      });
    }
    expect(changedUnchanged).toBe(0);
    expect(Math.abs(masked / candidates - 0.15)).toBeLessThan(0.005);
    expect(Math.abs(kinds[0] / masked - 0.8)).toBeLessThan(0.01);
    expect(Math.abs(kinds[1] / masked - 0.1)).toBeLessThan(0.01);
    expect(Math.abs(kinds[2] / masked - 0.1)).toBeLessThan(0.01);
  });

  it('is deterministic in the Rng state', () => {
    const seqs = [[2, 10, 11, 12, 13, 14, 15, 16, 17, 3]];
    const a = new Rng(3),
      b = new Rng(3);
    expect(maskBatch(seqs, 12, vocab, a)).toEqual(maskBatch(seqs, 12, vocab, b));
    expect(a.getState()).toEqual(b.getState());
  });

  it('whole-word masking masks every piece of a chosen word together', () => {
    const words = ['walk', 'talk', 'jump', 'play', 'read', 'sing'];
    const vocabTxt = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...words, '##s', '##ing', '##ed', '.'].join('\n');
    const t = BertTokenizer.fromVocabTxt(vocabTxt);
    const v = maskVocabFromTokenizer(t);
    const rng = new Rng(1);
    const gen = new Rng(2);
    let maskedPieces = 0,
      pieces = 0;
    for (let trial = 0; trial < 200; trial++) {
      const text = Array.from(
        { length: 20 },
        () => words[gen.nextInt(words.length)] + ['', 's', 'ing', 'ed'][gen.nextInt(4)],
      ).join(' ');
      const ids = t.encode(text).ids;
      const m = maskBatch([ids], 64, v, rng, { wholeWord: true });
      const set = new Set(Array.from(m.positions.slice(0, m.count)));
      pieces += ids.length - 2;
      maskedPieces += m.count;
      for (let i = 1; i < ids.length - 1; i++) {
        if (v.isContinuation[ids[i]]) expect(set.has(i)).toBe(set.has(i - 1)); // a continuation goes with its word
      }
    }
    expect(Math.abs(maskedPieces / pieces - 0.15)).toBeLessThan(0.02);
  });
});
