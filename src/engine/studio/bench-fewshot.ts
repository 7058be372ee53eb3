/**
 * The LM-BFF few-shot protocol (`fewshot bench-fewshot`): per seed, K examples per class are drawn
 * for training and another K per class (disjoint) for dev; each method runs from a freshly loaded
 * model and is scored on the test rows. Methods: zero-shot prompt (no training), prompt
 * fine-tuning, classifier head and SetFit — the same fine-tuning the studio runs (./fine-tune.ts).
 */
import type { Example } from '../data/dataset';
import { EngineError } from '../errors';
import type { VerbalizerSpec } from '../prompt/verbalizer';
import type { Metrics } from '../train/metrics';
import { Rng } from '../util/rng';
import type { FewShotModel } from './fewshot-model';
import { startFineTune, type FineTunePlan, type FineTuneSettings } from './fine-tune';
import { evaluatePromptOn } from './prompts';

export const FEWSHOT_METHODS = ['zeroshot', 'prompt', 'head', 'setfit'] as const;
export type FewShotMethod = (typeof FEWSHOT_METHODS)[number];
/** What `bench-fewshot` runs without --methods (SetFit is opt-in: its runs are the slowest). */
export const DEFAULT_FEWSHOT_METHODS: readonly FewShotMethod[] = ['zeroshot', 'prompt', 'head'];

/** Whether a method needs the template and label words (zero-shot and prompt fine-tuning). */
export function usesPrompt(method: FewShotMethod): boolean {
  return method === 'zeroshot' || method === 'prompt';
}

export type LabeledExample = Example & { label: string };

/** K per class for train and K per class for dev (disjoint), seeded; classes in sorted order. */
export function sampleFewShot(
  rows: readonly LabeledExample[],
  k: number,
  seed: number,
): { train: LabeledExample[]; dev: LabeledExample[] } {
  const byLabel = new Map<string, LabeledExample[]>();
  for (const r of rows) byLabel.set(r.label, [...(byLabel.get(r.label) ?? []), r]);
  const rng = new Rng(seed).fork('fewshot-sample');
  const train: LabeledExample[] = [];
  const dev: LabeledExample[] = [];
  for (const label of [...byLabel.keys()].sort()) {
    const pool = rng.shuffle([...byLabel.get(label)!]);
    if (pool.length < 2 * k)
      throw new EngineError(
        'BENCH_TOO_FEW_ROWS',
        `Label "${label}" has ${pool.length} training rows; K=${k} needs ${2 * k} (K for train and K for dev). Lower --k.`,
      );
    train.push(...pool.slice(0, k));
    dev.push(...pool.slice(k, 2 * k));
  }
  return { train: rng.shuffle(train), dev };
}

/** At most `max` test rows, a fixed random subset (the same for every seed and method). */
export function subsampleTest<T>(rows: readonly T[], max: number): T[] {
  if (rows.length <= max) return [...rows];
  return new Rng(0)
    .fork('max-test')
    .shuffle([...rows])
    .slice(0, max);
}

/** Mean and sample standard deviation (n − 1): one implementation, in util/stats.ts (cross-validation uses it too). */
export { meanStd } from '../util/stats';

export interface FewShotRunOptions {
  template: string;
  verbalizer: VerbalizerSpec;
  /** Calibrate zero-shot scores on content-free inputs. */
  calibrate: boolean;
  /** Training settings shared by the prompt, head and SetFit methods (patience is forced to 0). */
  settings: FineTuneSettings;
  /** Called with the resolved plan of a training method (epochs, learning rate, SetFit's R and C…). */
  onPlan?: (plan: FineTunePlan) => void;
}

/** Runs one method on one sample and scores it on `test` (labels in `labels` order). */
export async function runFewShotMethod(
  method: FewShotMethod,
  model: FewShotModel,
  sample: { train: LabeledExample[]; dev: LabeledExample[] },
  test: readonly LabeledExample[],
  labels: readonly string[],
  options: FewShotRunOptions,
): Promise<Metrics> {
  const verbalizer = Object.fromEntries(
    Object.entries(options.verbalizer).map(([l, w]) => [l, typeof w === 'string' ? [w] : [...w]]),
  );
  const asInput = (r: LabeledExample) => ({ text: r.text, textPair: r.textPair ?? null, label: r.label });
  if (method === 'zeroshot') {
    const prompt = { template: options.template, verbalizer, calibrate: options.calibrate };
    return evaluatePromptOn(model, prompt, test.map(asInput), labels, { maxLength: model.maxLength });
  }
  // SetFit: pair iterations R, epochs, learning rate and the head's C as the engine chooses them.
  const spec =
    method === 'prompt'
      ? { kind: 'prompt' as const, template: options.template, verbalizer }
      : method === 'setfit'
        ? { kind: 'setfit' as const }
        : { kind: 'head' as const };
  const run = startFineTune(model, sample, spec, { ...options.settings, patience: 0 });
  options.onPlan?.(run.plan);
  try {
    while (await run.loop.runStep()) {
      /* every step */
    }
    await run.finish();
    return await run.evaluate(test);
  } finally {
    run.dispose();
  }
}
