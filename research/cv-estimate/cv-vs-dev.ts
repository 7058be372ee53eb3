/**
 * How far is each estimate from the truth with few labeled rows? For K examples per class drawn
 * from a dataset's train.csv (the user's whole labeled data), compare
 *  (a) the studio's default: an automatic 20 % dev split, dev accuracy as the estimate, and
 *  (b) k-fold cross-validation (studio/cross-validate.ts): the folds' mean as the estimate,
 * each against the accuracy of the model it vouches for on held-out test rows.
 * Usage (repository root): npx tsx research/cv-estimate/cv-vs-dev.ts DATASET_DIR MODEL_DIR K SEEDS FOLDS MAX_TEST
 * Writes JSON lines to stdout. Goes through the engine's door only.
 */
import { join } from 'node:path';
import {
  sampleFewShot,
  startCrossValidation,
  startFineTune,
  subsampleTest,
  type LabeledExample,
} from '../../src/engine/studio';
import { initNodeBackend, loadModelFromDir, readDataFile } from '../../src/engine/studio/node';

const [dataDir, modelDir, kText, seedsText, foldsText, maxTestText] = process.argv.slice(2);
const k = Number(kText);
const seeds = Number(seedsText);
const folds = Number(foldsText);
const maxTest = Number(maxTestText);
const settings = { maxLength: 64 };

async function labeled(path: string): Promise<LabeledExample[]> {
  const file = await readDataFile(path);
  return file.rows.flatMap((r) =>
    r.label === null ? [] : [{ text: r.text, textPair: r.textPair, label: r.label, row: r.row }],
  );
}

async function main() {
  await initNodeBackend('wasm');
  const train = await labeled(join(dataDir, 'train.csv'));
  const test = subsampleTest(await labeled(join(dataDir, 'test.csv')), maxTest);
  for (let seed = 1; seed <= seeds; seed++) {
    const rows = sampleFewShot(train, k, seed).train;
    const s = { ...settings, seed };
    // (a) one automatic dev split
    let model = await loadModelFromDir(modelDir, { seed });
    const run = startFineTune(model, { train: rows }, { kind: 'head' }, s);
    while (await run.loop.runStep()) {
      /* every step */
    }
    await run.finish();
    const dev = await run.evaluate(run.plan.devExamples);
    const devModelTest = await run.evaluate(test);
    run.dispose();
    model.dispose();
    // (b) k-fold cross-validation, then the final model on all rows
    model = await loadModelFromDir(modelDir, { seed });
    const cv = startCrossValidation(model, { train: rows }, { kind: 'head' }, s, { folds });
    await cv.run();
    await cv.finish();
    const result = cv.result();
    const cvModelTest = await cv.final!.evaluate(test);
    cv.dispose();
    model.dispose();
    console.log(
      JSON.stringify({
        dataset: dataDir,
        k,
        seed,
        rows: rows.length,
        devRows: dev.n,
        devEstimate: dev.accuracy,
        devModelTest: devModelTest.accuracy,
        folds,
        cvEstimate: result.accuracy.mean,
        cvStd: result.accuracy.std,
        cvModelTest: cvModelTest.accuracy,
        testRows: test.length,
      }),
    );
  }
}

void main();
