/**
 * The slices of `../shared` under `tests/fixtures/` (see tests/fixtures/README.md) are exactly what
 * `scripts/vendor-test-fixtures.ts` cuts from it, and the bert-base-uncased files the tokenizer
 * tests rebuild from the repository equal the shared ones. Needs `../shared`, so CI checks it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { VOCAB_TXT_PATH, bertUncasedTokenizerJson, readText } from '../src/engine/tokenizer/test-support';
import { hasSharedData, sharedPath, warnIfNoSharedData } from './support/shared-data';
import { deriveVendoredFixtures } from './support/vendored-fixtures';

const FIXTURES_DIR = fileURLToPath(new URL('./fixtures/', import.meta.url));
/** The fixture folders cut from `../shared`. */
const VENDORED_DIRS = ['tokenizer', 'corpus', 'datasets'];

warnIfNoSharedData('checking tests/fixtures against the ../shared files they were cut from');

function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? filesUnder(path.join(dir, entry.name)) : [path.join(dir, entry.name)]));
}

describe('fixtures vendored from ../shared', () => {
  it('stay small: under 100 KB together', () => {
    const files = VENDORED_DIRS.flatMap((dir) => filesUnder(path.join(FIXTURES_DIR, dir)));
    expect(files.length).toBeGreaterThanOrEqual(6);
    const bytes = files.reduce((sum, file) => sum + fs.statSync(file).size, 0);
    expect(bytes).toBeLessThan(100_000);
  });
});

describe.skipIf(!hasSharedData)('fixtures vendored from ../shared match it (../shared)', () => {
  const derived = hasSharedData ? deriveVendoredFixtures((dataPath) => readText(sharedPath('data', dataPath))) : {};

  for (const [file, contents] of Object.entries(derived)) {
    it(`${file} is what scripts/vendor-test-fixtures.ts cuts from ../shared`, () => {
      expect(readText(path.join(FIXTURES_DIR, file))).toBe(contents);
    });
  }

  it('the vocab.txt the tokenizer tests borrow from the embedded model is the shared bert-base-uncased one', () => {
    const shared = fs.readFileSync(sharedPath('data/tokenizer/bert-base-uncased/vocab.txt'));
    expect(fs.readFileSync(VOCAB_TXT_PATH).equals(shared)).toBe(true);
  });

  it('the tokenizer.json rebuilt from the vendored file and that vocab.txt equals the shared one', () => {
    const shared = JSON.parse(readText(sharedPath('data/tokenizer/bert-base-uncased/tokenizer.json')));
    expect(bertUncasedTokenizerJson()).toEqual(shared);
  });
});
