/**
 * The team's shared data: `../shared` next to the repository (real datasets, the bert-base-uncased
 * tokenizer files, a text corpus). CI has it; a fresh clone may not. Tests whose core assertions
 * need only a little of it read small copies under `tests/fixtures/`; the few that need all of it
 * (every dataset, the whole corpus) skip with `describe.skipIf(!hasSharedData)` and say so with
 * `warnIfNoSharedData`, so that a green run without it is not mistaken for a full one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** `../shared` from the repository root, resolved from this file so it does not depend on the cwd. */
export const SHARED_DIR = fileURLToPath(new URL('../../../shared', import.meta.url));

/** True when `../shared/data` exists. */
export const hasSharedData = fs.existsSync(path.join(SHARED_DIR, 'data'));

/** A path inside `../shared`, e.g. `sharedPath('data/datasets/sst2/test.csv')`. */
export function sharedPath(...parts: string[]): string {
  return path.join(SHARED_DIR, ...parts);
}

/** Prints one line naming what is skipped when `../shared` is missing; does nothing when present. */
export function warnIfNoSharedData(skipped: string): void {
  if (!hasSharedData) console.warn(`../shared not found (${SHARED_DIR}): skipping ${skipped} (CI runs it).`);
}
