/**
 * Writes the small copies of `../shared` data that the tests read from `tests/fixtures/` (see
 * `tests/support/vendored-fixtures.ts` for what each one is cut from), so that the tests pass on a
 * clone without `../shared`. Run from the repository root after changing that file:
 *
 *   npx tsx scripts/vendor-test-fixtures.ts
 */
import fs from 'node:fs';
import path from 'node:path';
import { hasSharedData, sharedPath } from '../tests/support/shared-data';
import { deriveVendoredFixtures } from '../tests/support/vendored-fixtures';

if (!hasSharedData) {
  console.error(`The fixtures are cut from ../shared/data, which is not there (${sharedPath('data')}).`);
  process.exit(1);
}
const fixtures = deriveVendoredFixtures((dataPath) => fs.readFileSync(sharedPath('data', dataPath), 'utf8'));
for (const [file, contents] of Object.entries(fixtures)) {
  const target = path.join('tests/fixtures', file);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, contents);
  console.log(`${target}: ${Buffer.byteLength(contents)} bytes`);
}
