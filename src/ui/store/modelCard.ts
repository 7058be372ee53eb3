/**
 * What goes next to the weights in an exported zip: a README model card (data summary,
 * method, hyperparameters, dev metrics) and the training loss as an SVG image. Pure functions of
 * store data so they are unit-tested without a browser.
 */
import type { Metrics } from '../../engine/studio';
import type { ModelSummary } from '../../engine/studio';
import type { CrossValidationResult, FineTunePlan } from '../../worker/protocol';
import type { DatasetSummary } from '../../engine/studio';
import type { LossPoint, MethodRun } from './trainingSlice';

/** Plot size in SVG user units. */
const PLOT_WIDTH = 640;
const PLOT_HEIGHT = 240;
/** Room for axis labels. */
const MARGIN = { left: 56, right: 16, top: 16, bottom: 32 };

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Raw and smoothed loss per step as a standalone SVG (null without points). */
export function lossPlotSvg(points: readonly LossPoint[]): string | null {
  if (points.length === 0) return null;
  const steps = points.map((p) => p.step);
  const values = points.flatMap((p) => [p.loss, p.smoothed]).filter(Number.isFinite);
  const [x0, x1] = [Math.min(...steps), Math.max(...steps)];
  let [y0, y1] = [Math.min(...values), Math.max(...values)];
  if (y1 - y0 < 1e-9) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const w = PLOT_WIDTH - MARGIN.left - MARGIN.right;
  const h = PLOT_HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (step: number) => MARGIN.left + (x1 === x0 ? w / 2 : ((step - x0) / (x1 - x0)) * w);
  const y = (v: number) => MARGIN.top + (1 - (v - y0) / (y1 - y0)) * h;
  const path = (key: 'loss' | 'smoothed') =>
    points
      .filter((p) => Number.isFinite(p[key]))
      .map((p) => `${x(p.step).toFixed(1)},${y(p[key]).toFixed(1)}`)
      .join(' ');
  const ticks = [y0, (y0 + y1) / 2, y1];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${PLOT_WIDTH}" height="${PLOT_HEIGHT}" viewBox="0 0 ${PLOT_WIDTH} ${PLOT_HEIGHT}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top + h}" x2="${MARGIN.left + w}" y2="${MARGIN.top + h}" stroke="#888"/>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${MARGIN.top + h}" stroke="#888"/>`,
    ...ticks.map(
      (t) =>
        `<text x="${MARGIN.left - 6}" y="${y(t).toFixed(1)}" text-anchor="end" dominant-baseline="middle">${t.toFixed(3)}</text>`,
    ),
    `<text x="${MARGIN.left}" y="${PLOT_HEIGHT - 8}">step ${x0}</text>`,
    `<text x="${MARGIN.left + w}" y="${PLOT_HEIGHT - 8}" text-anchor="end">step ${x1}</text>`,
    `<polyline fill="none" stroke="#999" stroke-width="1" points="${path('loss')}"/>`,
    `<polyline fill="none" stroke="#3b5bdb" stroke-width="2" points="${path('smoothed')}"/>`,
    `<text x="${MARGIN.left + w}" y="${MARGIN.top + 10}" text-anchor="end">${escapeXml('training loss (grey: per step, blue: smoothed)')}</text>`,
    `</svg>`,
  ].join('\n');
}

export interface ModelCardInput {
  model: ModelSummary;
  dataFileName: string | null;
  validation: DatasetSummary | null;
  plan: FineTunePlan | null;
  metrics: Metrics | null;
  /** The cross-validated estimate, when the model is the final model of a cross-validation. */
  crossValidation?: CrossValidationResult | null;
  methodRuns: readonly MethodRun[];
  backend: string | null;
  hasLossPlot: boolean;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** README.md for the exported folder (Hugging Face model-card front matter + sections). */
export function buildModelCard(input: ModelCardInput): string {
  const { model, plan, metrics, validation } = input;
  const lines: string[] = [];
  lines.push(
    '---',
    'library_name: transformers',
    `pipeline_tag: ${model.prompt ? 'fill-mask' : 'text-classification'}`,
    'tags:',
    '- fewshot-studio',
    '---',
    '',
  );
  lines.push(`# ${model.name} fine-tuned with FewShot Studio`, '');
  lines.push(
    `Base model: ${model.source} — BERT, ${model.layers} layers, hidden ${model.hidden}, ${model.heads} heads, ${(model.parameters / 1e6).toFixed(1)} M parameters, vocabulary ${model.vocabSize}.`,
    '',
  );
  if (model.prompt) {
    lines.push('## Method: prompt-based fine-tuning (LM-BFF)', '');
    lines.push(`Template \`${model.prompt.template}\`; label words:`, '');
    for (const [label, words] of Object.entries(model.prompt.verbalizer))
      lines.push(`- **${label}**: ${words.join(', ')}`);
    lines.push(
      '',
      'The template and label words are stored in `config.json` under `fewshot_prompt`; load the folder with `BertForMaskedLM` and score the label words at the `[MASK]`.',
      '',
    );
  } else if (model.setfit) {
    lines.push(
      '## Method: SetFit',
      '',
      `Contrastive fine-tuning of the encoder on pairs of the training examples${plan?.setfit ? ` (${plan.setfit.pairs} pairs per epoch, R = ${plan.setfit.iterations}, ${plan.setfit.pooling} pooling)` : ''}, then a logistic-regression head (C = ${model.setfit.C}) on the sentence embeddings.`,
      '',
    );
  } else if (plan) {
    lines.push(
      '## Method: classifier head',
      '',
      'Load with `AutoModelForSequenceClassification.from_pretrained(folder)`; `config.json` carries `id2label`.',
      '',
    );
  }
  if (validation) {
    lines.push('## Data', '');
    lines.push(
      `File: ${input.dataFileName ?? '(unnamed)'} — ${validation.total} rows, ${validation.unlabeled} unlabeled.`,
      '',
    );
    lines.push('| label | rows |', '|---|---|');
    for (const c of validation.labels) lines.push(`| ${cell(c.label)} | ${c.count} |`);
    lines.push('');
  }
  if (plan) {
    lines.push('## Training', '');
    lines.push(
      `${plan.trainCount} training rows, ${plan.devCount} dev rows${plan.autoSplit ? ' (automatic stratified split)' : ''}; ${plan.epochs} epochs, batch ${plan.batchSize}${plan.gradAccumSteps > 1 ? ` × ${plan.gradAccumSteps} accumulated` : ''}, ` +
        `peak learning rate ${plan.learningRate}, max length ${plan.maxLength} tokens, seed ${plan.seed}, AdamW with linear warmup and decay${input.backend ? `, on ${input.backend}` : ''}.`,
      '',
    );
  }
  if (input.hasLossPlot) lines.push('![training loss](loss.svg)', '');
  const cv = input.crossValidation;
  if (cv) {
    lines.push(
      '## Cross-validated estimate',
      '',
      `${cv.text}. Each fold's model trained on the other folds and was scored on its own; the ± is the standard deviation between folds. The exported model was then trained on all rows.`,
      '',
      '| fold | trained on | scored on | accuracy | macro-F1 |',
      '|---|---|---|---|---|',
    );
    for (const f of cv.perFold)
      lines.push(`| ${f.fold} | ${f.trainRows} | ${f.testRows} | ${pct(f.accuracy)} | ${pct(f.macroF1)} |`);
    lines.push('');
  }
  if (metrics) {
    lines.push(
      '## Dev metrics',
      '',
      `Accuracy ${pct(metrics.accuracy)}, macro-F1 ${pct(metrics.macroF1)} on ${metrics.n} dev rows.`,
      '',
    );
    lines.push('| label | precision | recall | F1 | support |', '|---|---|---|---|---|');
    for (const c of metrics.perClass)
      lines.push(
        `| ${cell(c.label)} | ${c.precision.toFixed(3)} | ${c.recall.toFixed(3)} | ${c.f1.toFixed(3)} | ${c.support} |`,
      );
    lines.push('');
  }
  if (input.methodRuns.length > 0) {
    lines.push(
      '## Methods tried on this data (dev split)',
      '',
      '| method | setup | accuracy | macro-F1 |',
      '|---|---|---|---|',
    );
    for (const r of input.methodRuns)
      lines.push(`| ${r.method} | ${cell(r.detail)} | ${pct(r.accuracy)} | ${pct(r.macroF1)} |`);
    lines.push('');
  }
  lines.push('Dev scores on a few dozen rows are noisy; check the model on data of your own before relying on it.', '');
  return lines.join('\n');
}

/** Dev predictions as CSV: text, true label, predicted label, confidence, one probability column per label. */
export function devPredictionsCsv(plan: FineTunePlan, metrics: Metrics): string {
  // Quoted as RFC 4180; text a spreadsheet would run as a formula gets a leading apostrophe.
  const q = (value: string) => {
    const s = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const header = ['text', 'label', 'predicted', 'confidence', ...plan.labels.map((l) => `p_${l}`)].map(q).join(',');
  const rows = metrics.predictions.map((p) =>
    [
      plan.devExamples[p.index]?.text ?? '',
      p.trueLabel,
      p.predLabel,
      p.confidence.toFixed(6),
      ...p.probs.map((x) => x.toFixed(6)),
    ]
      .map(q)
      .join(','),
  );
  return `${[header, ...rows].join('\n')}\n`;
}

/**
 * The files an export carries about a run's scores: `metrics.json` (our schema: labels, accuracy,
 * macro-F1, per-class metrics, confusion matrix on the dev rows, and `crossValidation` — the
 * `fewshot train --cv` section: folds, rows, mean ± std, per fold — when the model is the final
 * model of a cross-validation) and `dev_predictions.csv` when there are dev metrics.
 */
export function metricsFiles(
  plan: FineTunePlan,
  metrics: Metrics | null,
  crossValidation: CrossValidationResult | null = null,
): Record<string, Uint8Array> {
  const dev = metrics
    ? (({ accuracy, macroF1, n, perClass, confusion }) => ({ accuracy, macroF1, n, perClass, confusion }))(metrics)
    : {};
  const json = { labels: plan.labels, ...dev, ...(crossValidation ? { crossValidation } : {}) };
  const encoder = new TextEncoder();
  return {
    'metrics.json': encoder.encode(`${JSON.stringify(json, null, 2)}\n`),
    ...(metrics ? { 'dev_predictions.csv': encoder.encode(devPredictionsCsv(plan, metrics)) } : {}),
  };
}
