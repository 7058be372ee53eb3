/**
 * A SetFit model on disk (docs/ARCHITECTURE.md, "Sentence-transformers folders" and "SetFit"): a
 * sentence-transformers folder (the fine-tuned BERT body, `modules.json`, `1_Pooling/config.json`,
 * `sentence_bert_config.json`) plus the logistic-regression head as `setfit_head.safetensors`
 * (`coef` [L, H] and `intercept` [L], F32) and `setfit_head.json` (labels in order, C, solver, pooling,
 * normalize). Never a pickle: both head files are data only. A README model card says how to load both
 * in Python. Reading validates every field against the folder's pipeline and config.json.
 */
import { EngineError } from '../errors';
import { parseSafetensors, writeSafetensors } from './safetensors';
import type { SentencePooling, SentenceTransformersConfig } from './sentence-transformers';

export const SETFIT_HEAD_JSON = 'setfit_head.json';
export const SETFIT_HEAD_WEIGHTS = 'setfit_head.safetensors';
/** `format` of setfit_head.json: what the file is, so another JSON of that name is not mistaken for one. */
const HEAD_FORMAT = 'fewshot-setfit-head';

/** The head of a SetFit model: probabilities = softmax(coef · e + intercept) of the pooled embedding e. */
export interface SetFitHead {
  /** Class labels in coefficient-row order. */
  labels: string[];
  /** [L][H] weights. */
  coef: number[][];
  /** [L] intercepts. */
  intercept: number[];
  /** The inverse regularisation strength it was fitted with (scikit-learn's C). */
  C: number;
  /** How it was fitted, e.g. "lbfgs". */
  solver: string;
  /** The sentence pooling its embeddings came from. */
  pooling: SentencePooling;
  /** Whether the embeddings were L2-normalized before the head. */
  normalize: boolean;
}

const jsonBytes = (value: unknown): Uint8Array => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);

/** The head's two files: setfit_head.json and setfit_head.safetensors (always F32: it is small). */
export function setfitHeadFiles(head: SetFitHead): Map<string, Uint8Array> {
  const L = head.labels.length;
  const H = head.coef[0]?.length ?? 0;
  const coef = new Float32Array(L * H); // [L, H] row-major
  head.coef.forEach((row, l) => coef.set(row, l * H));
  return new Map([
    [
      SETFIT_HEAD_JSON,
      jsonBytes({
        format: HEAD_FORMAT,
        version: 1,
        labels: head.labels,
        embedding_dimension: H,
        C: head.C,
        solver: head.solver,
        multi_class: 'multinomial',
        pooling: head.pooling,
        normalize: head.normalize,
        probabilities: 'softmax(embedding @ coef.T + intercept)',
      }),
    ],
    [
      SETFIT_HEAD_WEIGHTS,
      writeSafetensors(
        [
          { name: 'coef', shape: [L, H], data: coef },
          { name: 'intercept', shape: [L], data: Float32Array.from(head.intercept) },
        ],
        { dtype: 'F32', metadata: { format: 'np' } },
      ),
    ],
  ]);
}

/** The pipeline files of a sentence-transformers folder: modules.json, 1_Pooling/config.json, sentence_bert_config.json. */
export function sentenceTransformersFiles(
  st: Pick<SentenceTransformersConfig, 'pooling' | 'normalize' | 'maxSeqLength' | 'doLowerCase'>,
  hiddenSize: number,
): Map<string, Uint8Array> {
  const modules = [
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
    // Normalize reads no file, so its folder is empty and not written (sentence-transformers does not need it).
    ...(st.normalize
      ? [{ idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' }]
      : []),
  ];
  return new Map([
    ['modules.json', jsonBytes(modules)],
    [
      '1_Pooling/config.json',
      jsonBytes({
        word_embedding_dimension: hiddenSize,
        pooling_mode_cls_token: st.pooling === 'cls',
        pooling_mode_mean_tokens: st.pooling === 'mean',
        pooling_mode_max_tokens: st.pooling === 'max',
        pooling_mode_mean_sqrt_len_tokens: false,
        pooling_mode_weightedmean_tokens: false,
        pooling_mode_lasttoken: false,
      }),
    ],
    ['sentence_bert_config.json', jsonBytes({ max_seq_length: st.maxSeqLength, do_lower_case: st.doLowerCase })],
  ]);
}

/** The README model card of a SetFit export: what it is and how to load body and head in Python. */
export function setfitModelCard(head: SetFitHead, name: string): string {
  const pooling = { cls: 'CLS', mean: 'mean', max: 'max' }[head.pooling];
  const cls =
    head.pooling === 'cls'
      ? '\nThe pooling is CLS, but a `BertForSequenceClassification` export is not offered: that class puts the\n' +
        "[CLS] state through BERT's pooler (dense + tanh) before its classifier, which this head never saw.\n"
      : '';
  return `---
library_name: sentence-transformers
tags:
- setfit
- text-classification
- fewshot-studio
---

# ${name} (SetFit)

A SetFit classifier trained with FewShot Studio: a sentence-transformers body (BERT, ${pooling} pooling${head.normalize ? ', L2-normalized' : ''})
fine-tuned contrastively on pairs of the training examples, and a multinomial logistic-regression head
(C = ${head.C}, ${head.solver}) on its embeddings.

Labels, in the head's order: ${head.labels.map((l) => `\`${l}\``).join(', ')}.

| file | what |
|---|---|
| \`model.safetensors\`, \`config.json\`, \`vocab.txt\`, tokenizer files | the fine-tuned BERT body |
| \`modules.json\`, \`1_Pooling/config.json\`, \`sentence_bert_config.json\` | the sentence-transformers pipeline |
| \`${SETFIT_HEAD_WEIGHTS}\` | the head: \`coef\` [labels, hidden] and \`intercept\` [labels], float32 |
| \`${SETFIT_HEAD_JSON}\` | labels in order, C, solver, pooling, normalize |

No pickle anywhere: the head is two plain arrays.

## Use in Python

\`\`\`python
import json
import numpy as np
from safetensors.numpy import load_file
from sentence_transformers import SentenceTransformer

path = "path/to/this/folder"
body = SentenceTransformer(path)
head = load_file(f"{path}/${SETFIT_HEAD_WEIGHTS}")
labels = json.load(open(f"{path}/${SETFIT_HEAD_JSON}"))["labels"]

emb = body.encode(["a text to classify"])  # [N, hidden], pooled${head.normalize ? ' and normalized' : ''} as in training
logits = emb @ head["coef"].T + head["intercept"]
probs = np.exp(logits - logits.max(1, keepdims=True))
probs /= probs.sum(1, keepdims=True)
print([labels[i] for i in probs.argmax(1)], probs)
\`\`\`

FewShot Studio and \`fewshot predict --model path/to/this/folder\` load the folder back with the head.
${cls}`;
}

function fail(file: string, message: string): never {
  throw new EngineError('SETFIT_BAD_HEAD', `${file}: ${message}`);
}

/**
 * Reads and checks a SetFit head: `json` is the parsed setfit_head.json, `weights` the bytes of
 * setfit_head.safetensors; `hiddenSize` is config.json's and `pipeline` the folder's sentence-transformers
 * pipeline (required: the head only means something on the pooling it was fitted on).
 */
export function readSetFitHead(
  json: unknown,
  weights: Uint8Array | null,
  hiddenSize: number,
  pipeline: SentenceTransformersConfig | undefined,
): SetFitHead {
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    fail(SETFIT_HEAD_JSON, 'must contain a JSON object.');
  const j = json as Record<string, unknown>;
  if (j.format !== HEAD_FORMAT)
    fail(SETFIT_HEAD_JSON, `"format" must be "${HEAD_FORMAT}", got ${JSON.stringify(j.format)}.`);
  const labels = j.labels;
  if (!Array.isArray(labels) || labels.length < 2 || !labels.every((l) => typeof l === 'string' && l.length > 0))
    fail(SETFIT_HEAD_JSON, '"labels" must be a list of at least two non-empty strings.');
  if (new Set(labels).size !== labels.length) fail(SETFIT_HEAD_JSON, '"labels" has a label twice.');
  if (typeof j.C !== 'number' || !(j.C > 0))
    fail(SETFIT_HEAD_JSON, `"C" must be a positive number, got ${JSON.stringify(j.C)}.`);
  if (j.pooling !== 'cls' && j.pooling !== 'mean' && j.pooling !== 'max')
    fail(SETFIT_HEAD_JSON, `"pooling" must be "cls", "mean" or "max", got ${JSON.stringify(j.pooling)}.`);
  if (typeof j.normalize !== 'boolean') fail(SETFIT_HEAD_JSON, '"normalize" must be true or false.');
  if (!pipeline)
    fail(
      SETFIT_HEAD_JSON,
      'the folder has no modules.json; a SetFit head needs the sentence-transformers pipeline its embeddings came from.',
    );
  if (pipeline.pooling !== j.pooling || pipeline.normalize !== j.normalize)
    fail(
      SETFIT_HEAD_JSON,
      `the head was fitted on ${j.pooling} pooling${j.normalize ? ', normalized' : ''}, but modules.json and 1_Pooling/config.json say ${pipeline.pooling} pooling${pipeline.normalize ? ', normalized' : ''}. The files do not belong together.`,
    );
  if (weights === null)
    fail(SETFIT_HEAD_WEIGHTS, `is missing; ${SETFIT_HEAD_JSON} needs it next to it (the head's coef and intercept).`);
  const { tensors } = parseSafetensors(weights, SETFIT_HEAD_WEIGHTS);
  const L = labels.length;
  const coef = tensors.get('coef');
  const intercept = tensors.get('intercept');
  const same = (shape: readonly number[] | undefined, want: readonly number[]) =>
    shape !== undefined && shape.length === want.length && shape.every((d, i) => d === want[i]);
  if (!same(coef?.shape, [L, hiddenSize]))
    fail(
      SETFIT_HEAD_WEIGHTS,
      `"coef" must have shape [${L}, ${hiddenSize}] (labels in ${SETFIT_HEAD_JSON} × hidden_size in config.json), got ${coef ? `[${coef.shape.join(', ')}]` : 'no such tensor'}.`,
    );
  if (!same(intercept?.shape, [L]))
    fail(
      SETFIT_HEAD_WEIGHTS,
      `"intercept" must have shape [${L}], got ${intercept ? `[${intercept.shape.join(', ')}]` : 'no such tensor'}.`,
    );
  if (!coef!.data.every(Number.isFinite) || !intercept!.data.every(Number.isFinite))
    fail(SETFIT_HEAD_WEIGHTS, 'holds NaN or infinite values.');
  return {
    labels: labels as string[],
    coef: Array.from({ length: L }, (_, l) => Array.from(coef!.data.subarray(l * hiddenSize, (l + 1) * hiddenSize))),
    intercept: Array.from(intercept!.data),
    C: j.C,
    solver: typeof j.solver === 'string' ? j.solver : 'unknown',
    pooling: j.pooling,
    normalize: j.normalize,
  };
}
