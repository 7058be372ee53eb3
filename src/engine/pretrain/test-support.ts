/** Test helpers: the 126-word golden vocabulary and a learnable synthetic corpus over it. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BertTokenizer } from '../tokenizer';
import { Rng } from '../util/rng';
import type { CheckpointStore } from '../train/checkpointer';

export const GOLDEN_VOCAB = join(
  dirname(fileURLToPath(import.meta.url)),
  '../../../tests/fixtures/golden-micro/model/vocab.txt',
);

export function goldenTokenizer(): BertTokenizer {
  return BertTokenizer.fromVocabTxt(readFileSync(GOLDEN_VOCAB, 'utf8'));
}

const PAIRS: [string, string][] = [
  ['cat', 'sat'],
  ['dog', 'ran'],
  ['bird', 'jumped'],
  ['fish', 'slept'],
  ['horse', 'ate'],
  ['cow', 'saw'],
  ['mouse', 'liked'],
  ['lion', 'loved'],
  ['tiger', 'hated'],
  ['bear', 'found'],
];
const PLACES = ['mat', 'bed', 'chair', 'table', 'road', 'tree', 'box', 'house'];
const ADJ = ['big', 'small', 'red', 'blue', 'green', 'old', 'new', 'good'];

/**
 * `lines` sentences like "the cat sat on the red mat ." — each animal has its own verb and each
 * place its own adjective, so a model can beat the unigram baseline by learning the pairs.
 */
export function syntheticLines(lines: number, seed = 1): string[] {
  const rng = new Rng(seed);
  return Array.from({ length: lines }, () => {
    const [animal, verb] = PAIRS[rng.nextInt(PAIRS.length)];
    const k = rng.nextInt(PLACES.length);
    return `the ${animal} ${verb} on the ${ADJ[k]} ${PLACES[k]} .`;
  });
}

/** A checkpoint store in memory that can be told to fail (disk full). */
export function memoryStore(): CheckpointStore & { bytes: Uint8Array | null; saves: number } {
  const store = {
    bytes: null as Uint8Array | null,
    saves: 0,
    description: 'memory',
    async save(b: Uint8Array) {
      store.bytes = b.slice();
      store.saves++;
    },
    async load() {
      return store.bytes;
    },
  };
  return store;
}
