/**
 * Writes README.md (the model card) for a model produced by `fewshot pretrain` or
 * `research/pretrain/torch_pretrain.py`: architecture,
 * vocabulary, corpus, tokens seen, wall time, held-out MLM loss/accuracy, fill-mask examples
 * computed now from the weights, and the few-shot table from `fewshot bench-fewshot --out` JSON
 * files of this model and of a random-init model of the same shape.
 *
 * Usage: npx tsx research/pretrain/model-card.ts MODEL_DIR RUN_DIR[,RUN_DIR...] --bench pretrained=a.json,b.json --bench random=c.json,d.json [--continue "command"]
 *
 * Several RUN_DIRs (comma-separated, in order) describe a model trained in stages, each stage
 * starting from the previous one's weights (`torch_pretrain.py --init`): the card lists every stage
 * and numbers the held-out evaluations by the cumulative step. The card's stages are also written
 * to MODEL_DIR/pretrain_history.json, and an entry ending in `.json` is such a file: earlier stages
 * whose run folders were not kept (run folders live outside the repository), e.g.
 * `public/models/fewshot-tiny/pretrain_history.json,/work/fewshot-pretrain/next-stage`.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { loadModelFromDir } from '../../src/engine/studio/node';
import { initNodeBackend } from '../../src/engine/tf/node';

interface MeanStd {
  mean: number;
  std: number;
}
interface BenchReport {
  dataset: string;
  k: number;
  seeds: number;
  testRows: number;
  summary: { method: string; accuracy: MeanStd; macroF1: MeanStd; runs: number }[];
}

const [modelDir, runDir, ...rest] = process.argv.slice(2);
if (!modelDir || !runDir) {
  console.error(
    'Usage: npx tsx research/pretrain/model-card.ts MODEL_DIR RUN_DIR[,RUN_DIR...] [--bench NAME=a.json,b.json]... [--continue "command"]',
  );
  process.exit(2);
}
const benches = new Map<string, BenchReport[]>();
let continueCommand = '';
for (let i = 0; i < rest.length; i += 2) {
  if (rest[i] === '--bench') {
    const [name, files] = rest[i + 1].split('=');
    benches.set(
      name,
      files
        .split(',')
        .filter(existsSync)
        .map((f) => JSON.parse(readFileSync(f, 'utf8')) as BenchReport),
    );
  } else if (rest[i] === '--continue') continueCommand = rest[i + 1];
}

await initNodeBackend('wasm');
const config = JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8'));

/** One description of a run, from either trainer's summary and log. */
interface RunFacts {
  trainer: string;
  hardware: string;
  finished: boolean;
  steps: number;
  totalSteps: number;
  tokensSeen: number;
  wallHours: number;
  corpusFiles: number;
  corpusMegabytes: number | null;
  batchSize: number;
  maxLength: number;
  maskProb: number;
  wholeWord: boolean;
  optimizer: string;
  /** Peak learning rate, warmup steps, position-table initialisation, whether it started from earlier weights. */
  lr: number;
  warmup: number;
  positionInit: string;
  init: boolean;
  heldOut: { sequences: number; loss: number; accuracy: number; unigramBaseline: number | null };
  evals: { step: number; loss: number; accuracy: number }[];
  /** The vocabulary the stage trained with (a stage may move the model to a new one). */
  vocabulary: { size: number; name: string };
  /** Tokens in the packed corpus with that vocabulary (null where the trainer did not record it). */
  corpusTokens: number | null;
  /** How the stage's weights started, where the default wording ("weights of stage k") says too little. */
  start?: string;
  /** True for stages read back from an earlier card because their run folder was not kept. */
  reconstructed?: boolean;
  /** Salient-word masking (`torch_pretrain.py --salient-prob`): the chance a name is masked, and how many names. */
  salient?: { prob: number; words: number };
  /** `--time-decay`: the decay was planned over this many minutes rather than over a step count. */
  decayMinutes?: number;
}

/** Wall time for the card: minutes under an hour (a GPU stage takes a few), else hours. */
function formatWall(hours: number, digits: number): string {
  return hours < 1 ? `${(hours * 60).toFixed(1)} min` : `${hours.toFixed(digits)} h`;
}

const BERT_BASE_VOCAB = '../shared/data/tokenizer/bert-base-uncased/vocab.txt';
/** Read once: every run folder's vocab.txt is compared with it. */
const bertBaseVocab = existsSync(BERT_BASE_VOCAB) ? readFileSync(BERT_BASE_VOCAB, 'utf8').trim() : null;
/** The vocabulary of a run's exported folder: bert-base-uncased, or the corpus-trained one from `fewshot vocab`. */
function describeVocabulary(runDir: string): RunFacts['vocabulary'] {
  const path = join(runDir, 'vocab.txt');
  if (!existsSync(path)) return { size: 30522, name: 'bert-base-uncased WordPiece' }; // the wasm trainer's default
  const text = readFileSync(path, 'utf8');
  const size = text.trimEnd().split('\n').length; // one piece per line
  const isBertBase = bertBaseVocab === text.trim();
  return {
    size,
    name: isBertBase ? 'bert-base-uncased WordPiece' : 'WordPiece trained on the corpus by `fewshot vocab`',
  };
}

/** A stage that started from a model moved to a new vocabulary by transfer_vocab.py says so. */
function describeTransfer(templateDir: string): string | undefined {
  const path = join(templateDir, 'transfer_stats.json');
  if (!existsSync(path)) return undefined;
  const t = JSON.parse(readFileSync(path, 'utf8'));
  return `weights of the previous stage moved to the ${t.newVocabulary.toLocaleString('en-US')}-piece vocabulary by \`research/pretrain/transfer_vocab.py\` (${t.copied.toLocaleString('en-US')} embedding rows copied, ${t.averaged.toLocaleString('en-US')} averaged from their old pieces)`;
}

function describeRun(runDir: string): RunFacts {
  const summary = JSON.parse(readFileSync(join(runDir, 'pretrain_summary.json'), 'utf8'));
  const log = readFileSync(join(runDir, 'pretrain_log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  if (typeof summary.trainer === 'string' && summary.trainer.endsWith('torch_pretrain.py')) {
    // research/pretrain/torch_pretrain.py: PyTorch, same objective and data as `fewshot pretrain`.
    const a = summary.args;
    // --time-decay: the decay ended at the time limit, so the run is complete at whatever step that was.
    const decay = a.time_decay
      ? `linear decay to 0 at the ${a.minutes}-minute time limit`
      : `linear decay over ${summary.plannedSteps} steps`;
    // --keep-best: the exported weights are those of the best held-out evaluation, not the last step.
    const kept =
      a.keep_best && summary.exportedStep !== summary.steps
        ? `; weights of step ${summary.exportedStep}, the best held-out loss`
        : '';
    return {
      trainer:
        '`research/pretrain/torch_pretrain.py` (PyTorch; the same objective, masking and packed sequences as `fewshot pretrain`)',
      hardware: summary.gpu
        ? `one ${summary.gpu} GPU, PyTorch ${summary.torch}${a.amp ? ', bfloat16 autocast' : ''}`
        : `${summary.threads} threads, PyTorch ${summary.torch} on ${summary.device}`,
      finished: a.time_decay === true || summary.steps >= summary.plannedSteps,
      steps: summary.steps,
      totalSteps: a.time_decay ? summary.steps : summary.plannedSteps,
      tokensSeen: summary.tokens,
      wallHours: summary.seconds / 3600,
      corpusFiles: summary.corpus.length,
      corpusMegabytes: null,
      batchSize: a.batch_size,
      maxLength: JSON.parse(readFileSync(`${a.sequences}.json`, 'utf8')).maxLength,
      maskProb: a.mask_prob,
      wholeWord: a.whole_word,
      optimizer: `AdamW, peak lr ${a.lr}, warmup ${a.warmup}, ${decay}, weight decay ${a.weight_decay}, clip ${a.clip}, dropout ${a.dropout ?? 'as in config.json'} during pretraining${kept}`,
      lr: a.lr,
      warmup: a.warmup,
      positionInit: a.position_init ?? 'keep',
      init: a.init === true,
      heldOut: {
        sequences: summary.heldOut.sequences,
        loss: summary.heldOut.loss,
        accuracy: summary.heldOut.accuracy,
        unigramBaseline: summary.heldOut.unigramBaseline,
      },
      evals: log
        .filter((l) => 'heldOutLoss' in l)
        .map((l) => ({ step: l.step, loss: l.heldOutLoss, accuracy: l.heldOutAccuracy })),
      vocabulary: describeVocabulary(runDir),
      corpusTokens: summary.corpusTokens ?? null,
      start: a.init ? describeTransfer(a.template) : undefined,
      salient: a.salient_prob ? { prob: a.salient_prob, words: summary.salientWords } : undefined,
      decayMinutes: a.time_decay ? a.minutes : undefined,
    };
  }
  const o = summary.options;
  const stepLines = log.filter((l) => 'loss' in l && 'time' in l);
  return {
    trainer: "this project's own `fewshot pretrain`",
    hardware: '2 shared CPU cores (tfjs wasm backend)',
    finished: summary.finished !== false,
    steps: summary.steps,
    totalSteps: o.totalSteps,
    tokensSeen: summary.tokensSeen,
    wallHours: stepLines.length > 1 ? (Date.parse(stepLines.at(-1).time) - Date.parse(stepLines[0].time)) / 3.6e6 : 0,
    corpusFiles: summary.corpus.length,
    corpusMegabytes: summary.corpus.reduce((n: number, f: { bytes: number }) => n + f.bytes, 0) / 1e6,
    batchSize: o.batchSize,
    maxLength: o.maxLength,
    maskProb: o.maskProb,
    wholeWord: o.wholeWord,
    optimizer: `AdamW, peak lr ${o.learningRate}, warmup ${o.warmupSteps}, linear decay over ${o.totalSteps} steps, weight decay ${o.weightDecay}, clip ${o.maxGradNorm}`,
    lr: o.learningRate,
    warmup: o.warmupSteps,
    positionInit: 'keep',
    init: summary.init === 'model',
    heldOut: { sequences: o.heldOutSequences, ...summary.heldOut },
    evals: log
      .filter((l) => 'eval_loss' in l)
      .map((l) => ({ step: l.step, loss: l.eval_loss, accuracy: l.eval_accuracy })),
    vocabulary: describeVocabulary(runDir),
    corpusTokens: null,
  };
}
const stages: RunFacts[] = runDir
  .split(',')
  .flatMap((entry) =>
    entry.endsWith('.json') ? (JSON.parse(readFileSync(entry, 'utf8')) as RunFacts[]) : [describeRun(entry)],
  );
for (const stage of stages) {
  // One row per step (a run may log the final evaluation twice).
  stage.evals = stage.evals.filter((e, i, all) => all.findIndex((x) => x.step === e.step) === i);
}
const run = stages.at(-1)!;
const totalSteps = stages.reduce((n, st) => n + st.steps, 0);
const totalTokens = stages.reduce((n, st) => n + st.tokensSeen, 0);
const totalHours = stages.reduce((n, st) => n + st.wallHours, 0);
/** Held-out rows of all stages, numbered by the cumulative step. */
const evalRows: string[] = [];
let offset = 0;
stages.forEach((stage, k) => {
  for (const e of stage.evals) {
    evalRows.push(
      `${stages.length > 1 ? `| ${k + 1} ` : ''}| ${offset + e.step} | ${e.loss.toFixed(3)} | ${(100 * e.accuracy).toFixed(1)}% |`,
    );
  }
  offset += stage.steps;
});
/** The masking row's note on stages that masked names more often. */
const salientStages = stages.flatMap((st, k) => (st.salient ? [{ stage: k + 1, ...st.salient }] : []));
const salientNote =
  salientStages.length === 0
    ? ''
    : `; salient-word masking in stage${salientStages.length > 1 ? 's' : ''} ${salientStages.map((x) => x.stage).join(', ')}: each of ${[...new Set(salientStages.map((x) => x.words.toLocaleString('en-US')))].join(' / ')} names (one-piece words the corpus capitalises mid-sentence) masked with probability ${[...new Set(salientStages.map((x) => `${x.prob * 100}%`))].join(', ')} instead`;
const stageRows = stages.map(
  (st, k) =>
    `| ${k + 1} | ${st.start ?? (st.init ? `weights of stage ${k}` : 'BERT initialiser')}${st.positionInit === 'sinusoidal' ? '; position table reset to sin/cos' : ''}${st.salient ? '; names masked more often' : ''} | ${st.steps}${st.finished ? '' : ` of ${st.totalSteps} planned`} | ${st.batchSize} × ${st.maxLength} | ${st.lr} / ${st.warmup} / ${st.decayMinutes ? `${st.decayMinutes} min` : st.totalSteps} | ${(st.tokensSeen / 1e6).toFixed(2)} M | ${formatWall(st.wallHours, 2)} | ${st.heldOut.loss.toFixed(3)} / ${(100 * st.heldOut.accuracy).toFixed(1)}% |`,
);

/** The last stage (1-based) before the vocabulary changed, 0 if it never did. */
const vocabularyChange = stages.reduce(
  (last, st, k) => (k > 0 && st.vocabulary.size !== stages[k - 1].vocabulary.size ? k : last),
  0,
);

const model = await loadModelFromDir(modelDir);
const prompts = [
  'the capital of france is [MASK] .',
  'she opened the [MASK] and walked in .',
  'it was a dark and stormy [MASK] .',
  'the ship sailed across the [MASK] .',
  'he [MASK] the letter to his mother .',
];
const fills: string[] = [];
for (const p of prompts) {
  const [top] = await model.fillMask(p, 5);
  fills.push(`| \`${p}\` | ${top.map((c) => `${c.token} (${(100 * c.probability).toFixed(1)}%)`).join(', ')} |`);
}
const parameters = model.summary().parameters;
model.dispose();

/** Google's name for the shape (Turc et al. 2019 sizes, as in torch_pretrain.py's presets), else a plain "BERT". */
const shapeName =
  (
    {
      '2x128': 'BERT-tiny',
      '4x256': 'BERT-mini',
      '4x512': 'BERT-small',
      '8x512': 'BERT-medium',
      '12x768': 'BERT-base',
    } as Record<string, string>
  )[`${config.num_hidden_layers}x${config.hidden_size}`] ?? 'BERT';
/** Only folders under public/models/ are served by the studio. */
const shipped = resolve(modelDir, '..').endsWith(join('public', 'models'));
const fmt = (m: MeanStd | undefined) => (m ? `${(100 * m.mean).toFixed(1)} ± ${(100 * m.std).toFixed(1)}` : '—');
const heldOut = run.heldOut;
const lines = [
  '---',
  'library_name: transformers',
  'pipeline_tag: fill-mask',
  'language: en',
  'tags:',
  '- fewshot-studio',
  '---',
  '',
  `# ${basename(resolve(modelDir))}: an encoder pretrained by FewShot Studio`,
  '',
  `A ${shapeName}-shaped encoder (${config.num_hidden_layers} layers, hidden ${config.hidden_size}, ${config.num_attention_heads} heads, FFN ${config.intermediate_size}, ${(parameters / 1e6).toFixed(1)} M parameters) pretrained from scratch by ${stages.length > 1 ? [...new Set(stages.map((st) => st.trainer))].join(' and ') : run.trainer} with masked-language modelling on the public-domain text in \`../shared/data/corpus/\`. ${shipped ? 'It ships with the studio under `public/models/` and loads with no network.' : 'It is a measured alternative, not shipped with the studio.'} Weights are F16 safetensors in Hugging Face layout (\`BertForMaskedLM\`).`,
  '',
  stages.length > 1
    ? `Trained in ${stages.length} stages, each from the previous stage's weights with a fresh optimizer: ${totalSteps} steps, ${(totalTokens / 1e6).toFixed(1)} M tokens in all.${run.finished ? '' : ` The last stage stopped at its time limit, at step ${run.steps} of the ${run.totalSteps} its learning-rate decay was planned over.`}`
    : run.finished
      ? `Training finished: ${run.steps} steps.`
      : `**Status: a checkpoint of a run in progress** — step ${run.steps} of ${run.totalSteps} (the learning-rate schedule is planned over ${run.totalSteps} steps and had not decayed yet). Continue it with the command at the end; the numbers below are for this checkpoint.`,
  '',
  '## Training',
  '',
  '| | |',
  '|---|---|',
  `| vocabulary | ${run.vocabulary.name} (${run.vocabulary.size.toLocaleString('en-US')} tokens, lower-cased)${vocabularyChange > 0 ? `; stages 1–${vocabularyChange} used ${stages[0].vocabulary.name} (${stages[0].vocabulary.size.toLocaleString('en-US')})` : ''} |`,
  `| corpus | ${run.corpusFiles} files${run.corpusMegabytes === null ? '' : `, ${run.corpusMegabytes.toFixed(1)} MB`}${run.corpusTokens === null ? '' : ` (${(run.corpusTokens / 1e6).toFixed(2)} M tokens with this vocabulary)`} |`,
  ...(stages.length > 1
    ? [
        `| masking | ${run.maskProb * 100}% of tokens, 80/10/10, ${run.wholeWord ? 'whole-word' : 'per piece'}, dynamic${salientNote} |`,
        `| optimizer | AdamW, linear warmup then linear decay (per stage below), weight decay 0.01 |`,
      ]
    : [
        `| sequences | ${run.batchSize} × ${run.maxLength} tokens per step, packed lines |`,
        `| masking | ${run.maskProb * 100}% of tokens, 80/10/10, ${run.wholeWord ? 'whole-word' : 'per piece'}, dynamic${salientNote} |`,
        `| optimizer | ${run.optimizer} |`,
      ]),
  `| steps / tokens seen | ${totalSteps} / ${(totalTokens / 1e6).toFixed(2)} M |`,
  `| wall time | ${formatWall(totalHours, 1)}, ${run.hardware} |`,
  `| held-out (${heldOut.sequences} sequences, fixed masks) | MLM loss **${heldOut.loss.toFixed(3)}**, masked-token accuracy **${(100 * heldOut.accuracy).toFixed(1)}%**${heldOut.unigramBaseline === null ? '' : ` (always predicting the most frequent masked token: ${(100 * heldOut.unigramBaseline).toFixed(1)}%)`} |`,
  '',
  ...(stages.length > 1
    ? [
        'Stages (peak lr / warmup steps / steps, or minutes, the linear decay is planned over; held-out MLM loss / accuracy at the end of the stage):',
        '',
        '| stage | start | steps | batch × length | lr / warmup / decay | tokens | wall time | held-out |',
        '|---|---|---|---|---|---|---|---|',
        ...stageRows,
        '',
      ]
    : []),
  vocabularyChange > 0
    ? `Held-out MLM loss and accuracy during the run. Stages 1–${vocabularyChange} and the later ones are scored over different vocabularies (other pieces, other held-out tokens), so their numbers do not compare across that line:`
    : 'Held-out MLM loss and accuracy during the run:',
  '',
  stages.length > 1 ? '| stage | step | loss | accuracy |' : '| step | loss | accuracy |',
  stages.length > 1 ? '|---|---|---|---|' : '|---|---|---|',
  ...evalRows,
  '',
  '## Fill-mask (top 5, computed from these weights)',
  '',
  '| text | top 5 |',
  '|---|---|',
  ...fills,
  '',
];
if (benches.size > 0) {
  const datasets = [...new Set([...benches.values()].flat().map((b) => b.dataset))];
  const first = [...benches.values()].flat()[0];
  lines.push(
    '## Few-shot accuracy (`fewshot bench-fewshot`)',
    '',
    `K = ${first.k} examples per class for training and another K for dev, ${first.seeds} seeds (mean ± std of test accuracy, %), ${first.testRows} test rows per dataset (a fixed random subset), the library prompt for each dataset. "random" is a randomly initialised model of exactly the same shape and vocabulary (\`research/pretrain/make-random-like.ts\`): the difference is what pretraining bought.`,
    '',
    `| dataset | ${[...benches.keys()].flatMap((n) => [`${n}: zero-shot`, `${n}: prompt`, `${n}: head`]).join(' | ')} |`,
    `|---|${[...benches.keys()].flatMap(() => ['---', '---', '---']).join('|')}|`,
  );
  for (const d of datasets) {
    const cells = [...benches.values()].flatMap((reports) => {
      const r = reports.find((x) => x.dataset === d);
      return ['zeroshot', 'prompt', 'head'].map((m) => fmt(r?.summary.find((s) => s.method === m)?.accuracy));
    });
    lines.push(`| ${d} | ${cells.join(' | ')} |`);
  }
  lines.push('');
}
if (continueCommand) lines.push('## Continue the run', '', '```sh', continueCommand, '```', '');
lines.push('Reproduce: `research/README.md`.', '');
writeFileSync(join(modelDir, 'README.md'), lines.join('\n'));
// The stages as data, so a later stage can be added to the card without this stage's run folders.
writeFileSync(join(modelDir, 'pretrain_history.json'), `${JSON.stringify(stages, null, 1)}\n`);
console.log(`wrote ${join(modelDir, 'README.md')}`);
