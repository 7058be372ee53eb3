/**
 * Writes tests/fixtures/cjk-micro/model, the micro model with a CJK vocabulary that
 * e2e/studio-chinese.spec.ts trains on Chinese rows (recipe: tests/support/cjk-micro-model.ts).
 * Run from the repository root after changing the recipe or reviews.csv:
 *
 *   npx tsx scripts/make-cjk-micro-model.ts
 */
import { saveModelToDir } from '../src/engine/studio/node';
import { initNodeBackend } from '../src/engine/tf/node';
import { CJK_MICRO_DIR, buildCjkMicroModel } from '../tests/support/cjk-micro-model';

await initNodeBackend('wasm');
const model = buildCjkMicroModel();
await saveModelToDir(model, CJK_MICRO_DIR, { dtype: 'F32' });
model.dispose();
console.log(`wrote ${CJK_MICRO_DIR}`);
