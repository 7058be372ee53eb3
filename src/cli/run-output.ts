/** What every training command writes at the end (docs/ARCHITECTURE.md, "The door"). */
import type { FewShotModel } from '../engine/studio';
import { saveModelToDir } from '../engine/studio/node';

/**
 * One all-or-nothing write of a trained model with its metrics.json and train_log.jsonl (a reader
 * never sees a mix); every training command ends with it.
 */
export async function saveTrainedRun(
  model: FewShotModel,
  outDir: string,
  dtype: 'F32' | 'F16',
  metrics: unknown,
  log: readonly string[],
): Promise<void> {
  const encoder = new TextEncoder();
  const extraFiles = new Map([
    ['metrics.json', encoder.encode(`${JSON.stringify(metrics, null, 2)}\n`)],
    ['train_log.jsonl', encoder.encode(`${log.join('\n')}\n`)],
  ]);
  await saveModelToDir(model, outDir, { dtype, extraFiles });
}
