import { describe, expect, it } from 'vitest';
import { validateTrainingData } from '../data/validate';
import { agree, counted } from './words';

describe('counted words', () => {
  it('says "1 row" and "2 rows", with the verb agreeing', () => {
    expect(`${counted(1, 'row')} ${agree(1, 'has', 'have')}`).toBe('1 row has');
    expect(`${counted(2, 'row')} ${agree(2, 'has', 'have')}`).toBe('2 rows have');
    expect(counted(0, 'class', 'classes')).toBe('0 classes');
  });

  it('is what validation messages use', () => {
    const one = validateTrainingData([
      { text: '', label: 'a', row: 2 },
      { text: 'x', label: 'a', row: 3 },
      { text: 'y', label: 'b', row: 4 },
    ]);
    expect(one.issues.find((i) => i.code === 'EMPTY_TEXT')!.message).toBe(
      '1 training row has an empty or whitespace-only text: row 2.',
    );
    const messages = validateTrainingData([
      { text: '', label: 'a', row: 2 },
      { text: ' ', label: 'a', row: 3 },
      { text: 'x', label: 'a', row: 4 },
      { text: 'y', label: 'b', row: 5 },
    ]).issues.map((i) => i.message);
    expect(messages).toContain('2 training rows have an empty or whitespace-only text: rows 2, 3.');
    expect(messages.join(' ')).not.toContain('(s)');
  });
});
