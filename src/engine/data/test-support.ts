/** Test helpers for labeled rows: one example, and a dataset of N rows per class (interleaved). */
import type { Example } from './dataset';

export const ex = (text: string, label: string | null, textPair?: string): Example => ({
  text,
  label,
  ...(textPair !== undefined ? { textPair } : {}),
});

export function dataset(counts: Record<string, number>): Example[] {
  const out: Example[] = [];
  // interleave classes so input order is not grouped
  const max = Math.max(...Object.values(counts));
  for (let i = 0; i < max; i++)
    for (const [label, n] of Object.entries(counts)) if (i < n) out.push(ex(`${label} text ${i}`, label));
  return out;
}
