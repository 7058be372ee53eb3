import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasSharedData, sharedPath, warnIfNoSharedData } from '../../../tests/support/shared-data';
import { applyColumnMapping, detectColumns } from './detect';
import { parseDatasetFile } from './parse';
import { summarizeDataset } from './summary';

// The benchmark datasets shared by the team (header text,label), in ../shared only.
const root = sharedPath('data/datasets');
const names = existsSync(root)
  ? readdirSync(root)
      .filter((d) => existsSync(resolve(root, d, 'train.csv')))
      .sort()
  : [];

warnIfNoSharedData('parsing every datasets/*/train.csv');

describe.skipIf(!hasSharedData)('real datasets (../shared)', () => {
  it('are present (so the tests below cannot pass vacuously)', () => {
    expect(names.length).toBeGreaterThanOrEqual(9);
  });

  it.each(names)('%s/train.csv parses, and detection finds text and label', (name) => {
    const bytes = new Uint8Array(readFileSync(resolve(root, name, 'train.csv')));
    const parsed = parseDatasetFile(bytes, 'train.csv');
    expect(parsed.format).toBe('csv');
    expect(parsed.columns).toEqual(['text', 'label']);
    expect(parsed.warnings).toEqual([]);
    expect(parsed.rows.length).toBeGreaterThan(100);

    const detected = detectColumns(parsed.columns, parsed.rows.slice(0, 1000));
    expect(detected).toMatchObject({ text: 'text', textPair: null, label: 'label', confidence: 'high' });

    const examples = applyColumnMapping(parsed, detected);
    const summary = summarizeDataset(examples);
    expect(summary.unlabeled).toBe(0);
    expect(summary.emptyTexts).toEqual([]);
    expect(summary.labels.length).toBeGreaterThanOrEqual(2);
    expect(summary.total).toBe(parsed.rows.length);
    // Row numbers are spreadsheet rows: the first example is row 2, strictly increasing.
    expect(examples[0].row).toBe(2);
    expect(examples.every((e, i) => i === 0 || e.row > examples[i - 1].row)).toBe(true);
  });
});
