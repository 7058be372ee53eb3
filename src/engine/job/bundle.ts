/**
 * A training bundle: job.json, the exact split as CSV, train.py, requirements.txt, an accelerate
 * config for several machines and a README, plus the starting weights when they are not on the
 * Hub (docs/ARCHITECTURE.md, "Training jobs"). Made the same way by the studio and the CLI.
 */
import type { Example } from '../data/dataset';
import { EngineError } from '../errors';
import { JOB_VERSION, type JobSpec } from './spec';
import { TRAIN_PY } from './train-py';

/** Minimum versions train.py is written for (eval_strategy and safetensors saving by default). */
export const JOB_REQUIREMENTS = `# What train.py needs (pip install -r requirements.txt). Minimum versions it was written for.
torch>=2.1
transformers>=4.41
accelerate>=0.26
safetensors>=0.4
numpy>=1.24
`;

/** An accelerate config for two machines; the README says which fields to change. */
export const MULTI_NODE_YAML = `# accelerate launch --config_file multi_node.yaml train.py
# Run the same command on every machine; change machine_rank (0 on the main machine, 1, 2, …),
# main_process_ip (the main machine's address), num_machines and num_processes (GPUs in all).
compute_environment: LOCAL_MACHINE
distributed_type: MULTI_GPU
num_machines: 2
machine_rank: 0
main_process_ip: 192.168.1.10
main_process_port: 29500
num_processes: 16
mixed_precision: "no"
same_network: true
rdzv_backend: static
`;

/** RFC 4180 field: quoted when it holds a comma, quote or line break; the text is kept exactly. */
function csvCell(value: string): string {
  return /[",\n\r]/.test(value) || value !== value.trim() ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Rows as the bundle's CSV: `text,label` or `text,text_pair,label`, one row per example, in order. */
export function rowsToCsv(rows: readonly Example[], textPair: boolean): string {
  const header = textPair ? 'text,text_pair,label' : 'text,label';
  const lines = rows.map((r) => {
    if (r.label === null) throw new EngineError('INTERNAL', 'internal: an unlabeled row in a training split');
    const cells = textPair ? [r.text, r.textPair ?? '', r.label] : [r.text, r.label];
    return cells.map(csvCell).join(',');
  });
  return `${[header, ...lines].join('\r\n')}\r\n`;
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** The bundle's README: what is in it and the three ways to run it. */
export function jobReadme(spec: JobSpec): string {
  const model =
    spec.model.source === 'hub'
      ? `the Hugging Face Hub model \`${spec.model.repo}\` at commit \`${spec.model.revision}\` (downloaded on the first run)`
      : `the weights in \`${spec.model.path}/\` (${mb(spec.model.bytes)}, ${spec.model.origin}), included because they are not on the Hub`;
  const method =
    spec.method === 'head'
      ? 'a classifier head on the pooled [CLS] vector (`AutoModelForSequenceClassification`)'
      : `the cloze prompt \`${spec.prompt?.template ?? ''}\` with label words ${Object.entries(
          spec.prompt?.verbalizer ?? {},
        )
          .map(([label, words]) => `${label} → ${words.join('/')}`)
          .join(', ')} (\`AutoModelForMaskedLM\` with the verbalizer loss)`;
  return `# Training job: ${spec.labels.length} labels, ${spec.data.trainRows} training rows

Made by ${spec.createdBy} on ${spec.created.slice(0, 10)}. This folder runs the same training as the
studio run it came from, with Hugging Face \`transformers\`' Trainer, on bigger hardware: one GPU,
several GPUs, several machines.

- Method: ${method}.
- Starting model: ${model}.
- Data: \`${spec.data.train}\` (${spec.data.trainRows} rows) and \`${spec.data.dev}\` (${spec.data.devRows} rows), the exact split the run used.
- Settings: ${spec.epochs} epochs, batch ${spec.batchSize}${spec.gradAccumSteps > 1 ? ` × ${spec.gradAccumSteps} accumulated` : ''}, learning rate ${spec.learningRate}, linear schedule with ${100 * spec.warmupRatio} % warmup, weight decay ${spec.weightDecay}, gradient clipping at ${spec.maxGradNorm}, max length ${spec.maxLength} tokens, seed ${spec.seed}. All of them are in \`job.json\`.

## Install

\`\`\`sh
python -m venv .venv && . .venv/bin/activate
pip install -r requirements.txt
\`\`\`

## Run

Check the plan first (it needs neither torch nor transformers):

\`\`\`sh
python train.py --dry-run
\`\`\`

1. **One GPU** (or the CPU):

   \`\`\`sh
   python train.py
   \`\`\`

2. **Several GPUs on one machine** (here 4):

   \`\`\`sh
   torchrun --nproc_per_node 4 train.py
   \`\`\`

3. **Several machines**: edit \`multi_node.yaml\` (number of machines and GPUs, the main machine's
   address), copy this folder to every machine, then on each one, with its own \`machine_rank\`:

   \`\`\`sh
   accelerate launch --config_file multi_node.yaml train.py
   \`\`\`

The job's batch size (${spec.batchSize}) is the batch of one optimizer step over all processes, as in
the studio: with N processes each one takes ${spec.batchSize}/N rows (\`--per-device-batch-size\` sets
it yourself). Add \`--bf16\` or \`--fp16\` for mixed precision on a GPU.

More data or another model: \`--train-file big.csv\` (same columns: text${spec.data.textPair ? ', text_pair' : ''}, label;
the labels must be the job's), \`--dev-file\`, \`--model bert-large-uncased\`, \`--epochs N\`.

## What comes out

\`output/\` is a Hugging Face folder (\`model.safetensors\`, \`config.json\` with the labels${spec.method === 'prompt' ? ' and the prompt' : ''},
the tokenizer), with \`metrics.json\` and \`train_log.jsonl\`. Open it in FewShot Studio (drop the folder
on the Model panel) or use it from the command line:

\`\`\`sh
npx fewshot predict --model output --input texts.csv --output predictions.csv
\`\`\`

The result is close to the studio run's but not bit-identical: the classifier head starts from
other random numbers, batches are shuffled by PyTorch, and GPU arithmetic differs.
${
  spec.run?.bestDevAccuracy !== null && spec.run?.bestDevAccuracy !== undefined
    ? `The studio run scored ${(100 * spec.run.bestDevAccuracy).toFixed(1)} % dev accuracy.\n`
    : ''
}
This bundle (format version ${JOB_VERSION}) is also read by \`npx fewshot train --job job.json --out DIR\`,
which reruns it with FewShot Studio's own trainer and reports how close its losses come to the run's.
`;
}

export interface JobBundleInput {
  spec: JobSpec;
  train: readonly Example[];
  dev: readonly Example[];
  /** The starting model's Hugging Face files, required when `spec.model.source` is 'included'. */
  modelFiles?: ReadonlyMap<string, Uint8Array> | null;
}

/** Every file of the bundle (path → bytes), ready to zip or write to a folder. */
export function jobBundleFiles(input: JobBundleInput): Map<string, Uint8Array> {
  const { spec } = input;
  if (input.train.length !== spec.data.trainRows || input.dev.length !== spec.data.devRows) {
    throw new EngineError(
      'INTERNAL',
      `internal: job.json lists ${spec.data.trainRows}/${spec.data.devRows} rows but ${input.train.length}/${input.dev.length} were given`,
    );
  }
  const encoder = new TextEncoder();
  const files = new Map<string, Uint8Array>([
    ['job.json', encoder.encode(`${JSON.stringify(spec, null, 2)}\n`)],
    [spec.data.train, encoder.encode(rowsToCsv(input.train, spec.data.textPair))],
    [spec.data.dev, encoder.encode(rowsToCsv(input.dev, spec.data.textPair))],
    ['train.py', encoder.encode(TRAIN_PY)],
    ['requirements.txt', encoder.encode(JOB_REQUIREMENTS)],
    ['multi_node.yaml', encoder.encode(MULTI_NODE_YAML)],
    ['README.md', encoder.encode(jobReadme(spec))],
  ]);
  if (spec.model.source === 'included') {
    if (!input.modelFiles || !input.modelFiles.has('config.json'))
      throw new EngineError('INTERNAL', 'internal: a job with included weights needs the model files');
    for (const [name, bytes] of input.modelFiles) files.set(`${spec.model.path}/${name}`, bytes);
  }
  return files;
}

/** Bytes of a model folder's files (what "included" weights add to a bundle). */
export function folderBytes(files: ReadonlyMap<string, Uint8Array>): number {
  let total = 0;
  for (const bytes of files.values()) total += bytes.byteLength;
  return total;
}
