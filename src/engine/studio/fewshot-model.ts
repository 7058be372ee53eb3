/**
 * FewShotModel: one loaded BERT checkpoint with its tokenizer, ready for the things a user does
 * with it — classify texts, fill masks, embed, fine-tune (through ./fine-tune.ts and the one loop) and
 * export a Hugging Face folder. The worker session holds exactly one; the CLI makes one per run.
 *
 * Why one file of ~470 lines: it is one class whose methods share the model's private state
 * (weights, tokenizer, load report, prompt); the work itself lives elsewhere (methods/, prompt/).
 */
import * as tf from '@tensorflow/tfjs';
import {
  bertConfigToJson,
  bertEncoder,
  countParameters,
  estimateBytes,
  gatherPositions,
  initBertParams,
  initTensor,
  l2Normalize,
  loadBertParams,
  mlmLogitsRows,
  namedParams,
  paramInitSeed,
  paramSpecs,
  paramsToTensorMap,
  parseBertConfig,
  sentencePool,
  disposeBertParams,
  type BertConfig,
  type BertParams,
  type LoadReport,
} from '../bert';
import {
  describeSentenceTransformers,
  exportFolder,
  sentenceTransformersFiles,
  setfitHeadFiles,
  setfitModelCard,
  type SetFitHead,
  type CheckpointFiles,
  type SentenceTransformersConfig,
} from '../checkpoint';
import { EngineError } from '../errors';
import { BertTokenizer, type Encoding } from '../tokenizer';
import type { EncodedExample } from '../train/batches';
import { predictClassProbabilities } from '../methods/classifier';
import { logisticRegressionProbabilities } from '../methods/logistic-regression';
import {
  predictWithPrompt,
  promptExtraConfig,
  readPromptConfig,
  resolvePrompt,
  toPredictions,
  type Prediction,
  type PromptConfig,
} from '../prompt/config';

export type { Prediction };

/** A text (or text pair) to classify or encode. */
export interface TextInput {
  text: string;
  textPair?: string | null;
}

export interface FillMaskCandidate {
  token: string;
  id: number;
  probability: number;
}

export interface ModelSummary {
  name: string;
  /** Where it came from, e.g. a folder path, a Hub repo or "embedded". */
  source: string;
  layers: number;
  hidden: number;
  heads: number;
  intermediate: number;
  vocabSize: number;
  maxPositions: number;
  parameters: number;
  /** float32 weight bytes. */
  weightBytes: number;
  /** Heads whose weights came from the checkpoint (fresh heads are listed in `freshHeads`). */
  loadedHeads: string[];
  freshHeads: string[];
  /** Class labels of the classifier head (id order). */
  labels: string[];
  warnings: string[];
  weightFormat: string | null;
  /** Cloze prompt that `predict` uses instead of the classifier head (config.json `fewshot_prompt`), or null. */
  prompt: PromptConfig | null;
  /**
   * How `embed` pools, from a sentence-transformers folder (modules.json), with a one-line `description` such as
   * "mean pooling, normalized, max 256 tokens"; null for a plain folder (masked mean pooling, not normalized).
   */
  sentenceTransformers: (SentenceTransformersConfig & { description: string }) | null;
  /**
   * The SetFit head `predict` uses (logistic regression on the embeddings), or null; `examples`: training rows kept
   * for "nearest examples" (null after a reload: they are never exported).
   */
  setfit: { C: number; solver: string; examples: number | null } | null;
}

/** Longest input the studio tokenizes by default when a model allows more (keeps memory sane). */
export const DEFAULT_MAX_LENGTH = 128;

/** HF writes `LABEL_0, LABEL_1` when a checkpoint has no real label names. */
function isPlaceholderLabels(labels: string[]): boolean {
  return labels.every((l, i) => l === `LABEL_${i}`);
}

/** A model's weights and head setup on the CPU (FewShotModel.snapshotWeights). */
export interface ModelWeightsSnapshot {
  config: BertConfig;
  prompt: PromptConfig | null;
  /** The SetFit head and the examples it was fitted on (null: none). */
  setfit: { head: SetFitHead; examples: SetFitExamples | null } | null;
  /** The sentence pipeline `embed` follows (a SetFit head may have set one). */
  sentenceTransformers: SentenceTransformersConfig | null;
  initialized: string[];
  values: { name: string; shape: number[]; data: Float32Array }[];
}

/**
 * The training rows a SetFit head was fitted on, with their embeddings [N][H]: what the playground's
 * "nearest training examples" compare against. Kept in memory only; never exported (the texts are
 * the user's data).
 */
export interface SetFitExamples {
  inputs: TextInput[];
  labels: string[];
  /** [N][H], as `embed` returns them. */
  embeddings: number[][];
}

/** A training example near a text, by cosine similarity of the sentence embeddings. */
export interface NearestExample {
  /** Index in the examples the head was fitted on. */
  index: number;
  text: string;
  textPair: string | null;
  label: string;
  /** Cosine similarity in [-1, 1]. */
  similarity: number;
}

export class FewShotModel {
  private disposed = false;
  private setfitExamplesState: SetFitExamples | null = null;
  /**
   * When set, `predict` scores classes through this template + verbalizer on the MLM head
   * (prompt-based models, issue: prompt learning) instead of the classifier head.
   */
  private promptConfig: PromptConfig | null = null;
  /**
   * The Hub commit the weights were downloaded at (set by loadModel for Hub models), so a training
   * job can name the exact starting point; null for every other source.
   */
  hubCommit: string | null = null;
  /** The sentence-transformers pipeline `embed` follows (docs/ARCHITECTURE.md, "Sentence-transformers folders"). */
  private sentenceTransformersConfig: SentenceTransformersConfig | null = null;
  /**
   * When set, `predict` is SetFit's: pool → [normalize] → softmax(W·e + b) (docs/ARCHITECTURE.md, "SetFit");
   * loaded from setfit_head.* or installed by a SetFit run (`startFineTune`).
   */
  private setfitHeadState: SetFitHead | null = null;

  private constructor(
    public readonly name: string,
    public readonly source: string,
    public config: BertConfig,
    public readonly tokenizer: BertTokenizer,
    public readonly params: BertParams,
    private readonly loadReport: LoadReport,
    private readonly weightFormat: string | null,
  ) {}

  /**
   * Builds a model from checkpoint files (see checkpoint/load.ts). Validates the config before
   * allocating anything, checks the tokenizer against the embedding matrix, and loads weights
   * (fresh heads where the checkpoint has none, with warnings).
   */
  static fromCheckpoint(
    files: CheckpointFiles,
    options: { name: string; source: string; seed?: number },
  ): FewShotModel {
    const config = parseBertConfig(files.configJson, 'config.json');
    const tokenizer = BertTokenizer.fromHuggingFaceFiles({
      tokenizerJson: files.tokenizerJson,
      vocabTxt: files.vocabTxt,
      tokenizerConfig: files.tokenizerConfig as Record<string, unknown> | undefined,
    });
    if (tokenizer.vocabSize > config.vocab_size) {
      throw new EngineError(
        'MODEL_VOCAB_MISMATCH',
        `The tokenizer has ${tokenizer.vocabSize} tokens but config.json says vocab_size ${config.vocab_size}: ids past ${config.vocab_size - 1} have no embedding. ` +
          'The vocabulary file does not belong to these weights; use the vocab.txt/tokenizer.json shipped with the model.',
      );
    }
    // Read the saved prompt before allocating weights so a bad one fails fast and leaks nothing.
    const prompt = readPromptConfig(files.configJson);
    if (prompt) resolvePrompt({ tokenizer }, prompt);
    const { params, report } = loadBertParams(files.tensors, config, {
      seed: options.seed ?? 0,
      fileName: files.weightFiles?.[0],
    });
    const model = new FewShotModel(
      options.name,
      options.source,
      config,
      tokenizer,
      params,
      { ...report, warnings: [...files.warnings, ...report.warnings] },
      files.weightFormat,
    );
    model.promptConfig = prompt;
    model.sentenceTransformersConfig = files.sentenceTransformers ?? null;
    model.setfitHeadState = files.setfitHead ?? null;
    return model;
  }

  /** The prompt `predict` uses, or null (classifier head). */
  get prompt(): PromptConfig | null {
    return this.promptConfig;
  }

  /**
   * Makes `predict` (and the exported config.json) use a cloze prompt; null returns to the
   * classifier head. Validated against the tokenizer first (template has one [MASK], every label
   * has words the vocabulary knows).
   */
  setPrompt(prompt: PromptConfig | null): void {
    this.assertAlive();
    if (prompt) resolvePrompt(this, prompt);
    this.promptConfig = prompt ? { ...prompt, verbalizer: { ...prompt.verbalizer } } : null;
    if (prompt) {
      this.setfitHeadState = null;
      this.setfitExamplesState = null;
    }
  }

  /** The SetFit head `predict` uses, or null. */
  get setfitHead(): SetFitHead | null {
    return this.setfitHeadState;
  }

  /**
   * Makes `predict` (and the export) SetFit's: embeddings from the model's sentence pooling, then this
   * head. A model without a sentence-transformers pipeline gets the one `embed` already follows (masked
   * mean, not normalized, at most 128 tokens), so the export reloads with the same embeddings. Null
   * returns to the classifier head.
   */
  setSetFitHead(head: SetFitHead | null, examples: SetFitExamples | null = null): void {
    this.assertAlive();
    this.setfitExamplesState = null;
    if (head === null) {
      this.setfitHeadState = null;
      return;
    }
    const H = this.config.hidden_size;
    if (
      head.labels.length < 2 ||
      head.coef.length !== head.labels.length ||
      head.intercept.length !== head.labels.length
    )
      throw new EngineError('INTERNAL', 'internal: a SetFit head needs one coefficient row and intercept per label');
    if (head.coef.some((row) => row.length !== H))
      throw new EngineError('INTERNAL', `internal: SetFit head rows must have ${H} numbers (the hidden size)`);
    const st = this.sentenceTransformersConfig;
    if (st && (st.pooling !== head.pooling || st.normalize !== head.normalize))
      throw new EngineError(
        'INTERNAL',
        `internal: the SetFit head was fitted on ${head.pooling} pooling, the model pools with ${st.pooling}`,
      );
    this.sentenceTransformersConfig ??= {
      pooling: head.pooling,
      normalize: head.normalize,
      maxSeqLength: Math.min(DEFAULT_MAX_LENGTH, this.maxLength),
      doLowerCase: false,
      modules: ['Transformer', 'Pooling', ...(head.normalize ? ['Normalize'] : [])],
    };
    if (
      examples &&
      (examples.inputs.length !== examples.labels.length || examples.inputs.length !== examples.embeddings.length)
    )
      throw new EngineError('INTERNAL', 'internal: SetFit examples need one label and one embedding per text');
    this.promptConfig = null;
    this.setfitHeadState = structuredClone(head);
    this.setfitExamplesState = examples;
  }

  /** Whether `nearestExamples` can answer (a SetFit head fitted in this session keeps its examples). */
  get hasSetFitExamples(): boolean {
    return this.setfitHeadState !== null && this.setfitExamplesState !== null;
  }

  /**
   * The `k` training examples nearest to each input by cosine similarity of the embeddings (the
   * space the SetFit head classifies in), most similar first; [] per input when no examples are kept.
   */
  async nearestExamples(inputs: readonly TextInput[], k = 3): Promise<NearestExample[][]> {
    this.assertAlive();
    const examples = this.setfitExamplesState;
    if (!examples || !this.setfitHeadState) return inputs.map(() => []);
    const norm = (v: readonly number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0)) || 1;
    const exampleNorms = examples.embeddings.map(norm); // [N]
    const queries = await this.embed(inputs); // [Q][H]
    return queries.map((q) => {
      const qNorm = norm(q);
      return examples.embeddings
        .map((e, index) => ({
          index,
          similarity: e.reduce((s, x, d) => s + x * q[d], 0) / (qNorm * exampleNorms[index]),
        }))
        .sort((a, b) => b.similarity - a.similarity)
        .slice(0, k)
        .map(({ index, similarity }) => ({
          index,
          text: examples.inputs[index].text,
          textPair: examples.inputs[index].textPair ?? null,
          label: examples.labels[index],
          similarity,
        }));
    });
  }

  /** A freshly initialised model (tests, random-init baselines). */
  static fromConfig(
    config: BertConfig,
    tokenizer: BertTokenizer,
    options: { name: string; seed?: number },
  ): FewShotModel {
    if (tokenizer.vocabSize > config.vocab_size) {
      throw new EngineError(
        'MODEL_VOCAB_MISMATCH',
        `The tokenizer has ${tokenizer.vocabSize} tokens but the config allows ${config.vocab_size}.`,
      );
    }
    const params = initBertParams(config, options.seed ?? 0);
    const fresh = paramSpecs(config)
      .filter((s) => s.group === 'classifier')
      .map((s) => s.name);
    return new FewShotModel(
      options.name,
      'random initialisation',
      config,
      tokenizer,
      params,
      { initialized: fresh, unexpected: [], warnings: [] },
      null,
    );
  }

  /** Class labels in id order (the verbalizer's label order when a prompt is set). */
  get labels(): string[] {
    if (this.setfitHeadState) return [...this.setfitHeadState.labels];
    if (this.promptConfig) return Object.keys(this.promptConfig.verbalizer);
    const id2label = this.config.id2label ?? {};
    return Object.keys(id2label)
      .map(Number)
      .sort((a, b) => a - b)
      .map((i) => id2label[String(i)]);
  }

  /** True when the classifier's labels are real names (trained or loaded), not HF placeholders. */
  get hasTrainedClassifier(): boolean {
    if (this.setfitHeadState) return true;
    return !this.loadReport.initialized.some((n) => n.startsWith('classifier.')) && !isPlaceholderLabels(this.labels);
  }

  get maxLength(): number {
    return Math.min(this.config.max_position_embeddings, this.tokenizer.config.modelMaxLength ?? Infinity, 512);
  }

  summary(): ModelSummary {
    const groups = ['pooler', 'MLM head', 'classifier'];
    const prefixes: Record<string, string> = {
      pooler: 'bert.pooler.',
      'MLM head': 'cls.predictions.',
      classifier: 'classifier.',
    };
    const fresh = groups.filter((g) => this.loadReport.initialized.some((n) => n.startsWith(prefixes[g])));
    return {
      name: this.name,
      source: this.source,
      layers: this.config.num_hidden_layers,
      hidden: this.config.hidden_size,
      heads: this.config.num_attention_heads,
      intermediate: this.config.intermediate_size,
      vocabSize: this.config.vocab_size,
      maxPositions: this.config.max_position_embeddings,
      parameters: countParameters(this.config),
      weightBytes: estimateBytes(this.config, 'inference'),
      loadedHeads: groups.filter((g) => !fresh.includes(g)),
      freshHeads: fresh,
      labels: this.labels,
      warnings: [...this.loadReport.warnings],
      weightFormat: this.weightFormat,
      prompt: this.promptConfig,
      setfit: this.setfitHeadState
        ? {
            C: this.setfitHeadState.C,
            solver: this.setfitHeadState.solver,
            examples: this.setfitExamplesState?.inputs.length ?? null,
          }
        : null,
      sentenceTransformers: this.sentenceTransformersConfig
        ? {
            ...this.sentenceTransformersConfig,
            modules: [...this.sentenceTransformersConfig.modules],
            description: describeSentenceTransformers(this.sentenceTransformersConfig),
          }
        : null,
    };
  }

  /**
   * Makes the classifier head match `labels`. Same labels in the same order → kept as is;
   * otherwise a fresh head (seeded) replaces it and config.id2label/label2id follow.
   */
  setLabels(labels: readonly string[], seed = 0): boolean {
    this.assertAlive();
    // Training a classifier head replaces a SetFit head as what `predict` uses.
    this.setfitHeadState = null;
    this.setfitExamplesState = null;
    if (labels.length < 2)
      throw new EngineError(
        'TRAIN_ONE_CLASS',
        `A classifier needs at least 2 labels; got ${labels.length} (${labels.join(', ') || 'none'}).`,
      );
    const current = this.labels;
    if (current.length === labels.length && current.every((l, i) => l === labels[i])) return false;
    const id2label = Object.fromEntries(labels.map((l, i) => [String(i), l]));
    const label2id = Object.fromEntries(labels.map((l, i) => [l, i]));
    const config: BertConfig = { ...this.config, id2label, label2id, architectures: ['BertForSequenceClassification'] };
    const specs = paramSpecs(config);
    const fresh = specs
      .map((spec, index) => ({ spec, index }))
      .filter(({ spec }) => spec.group === 'classifier')
      .map(({ spec, index }) => {
        const t = initTensor(spec, config, paramInitSeed(seed, index));
        const v = tf.variable(t, true);
        t.dispose();
        return { name: spec.name, v };
      });
    const w = fresh.find((f) => f.name === 'classifier.weight')!.v as tf.Variable<tf.Rank.R2>;
    const b = fresh.find((f) => f.name === 'classifier.bias')!.v as tf.Variable<tf.Rank.R1>;
    this.params.classifier.w.dispose();
    this.params.classifier.b.dispose();
    this.params.classifier = { w, b };
    this.config = config;
    this.loadReport.initialized = [
      ...this.loadReport.initialized.filter((n) => !n.startsWith('classifier.')),
      'classifier.weight',
      'classifier.bias',
    ];
    return true;
  }

  /** Marks the classifier as trained (after fine-tuning) so summaries stop calling it fresh. */
  markClassifierTrained(): void {
    this.loadReport.initialized = this.loadReport.initialized.filter((n) => !n.startsWith('classifier.'));
  }

  /**
   * Every weight and the head's setup (labels, prompt, which heads are fresh) as they are now, read
   * to the CPU: what `restoreWeights` puts back. On the CPU, so it outlives a lost GPU device and
   * costs no GPU memory (one readback of the model's size).
   */
  async snapshotWeights(): Promise<ModelWeightsSnapshot> {
    this.assertAlive();
    const values: ModelWeightsSnapshot['values'] = [];
    for (const { name, variable } of namedParams(this.params, this.config)) {
      values.push({ name, shape: [...variable.shape], data: (await variable.data()) as Float32Array });
    }
    return {
      config: structuredClone(this.config),
      prompt: this.promptConfig ? structuredClone(this.promptConfig) : null,
      setfit: this.setfitHeadState
        ? { head: structuredClone(this.setfitHeadState), examples: this.setfitExamplesState }
        : null,
      sentenceTransformers: this.sentenceTransformersConfig ? structuredClone(this.sentenceTransformersConfig) : null,
      initialized: [...this.loadReport.initialized],
      values,
    };
  }

  /**
   * Puts back a `snapshotWeights` snapshot of this model: every weight, the classifier head's
   * shape and labels, the prompt. A head that training replaced (other labels) is replaced again.
   */
  restoreWeights(snapshot: ModelWeightsSnapshot): void {
    this.assertAlive();
    const byName = new Map(snapshot.values.map((v) => [v.name, v]));
    const headW = byName.get('classifier.weight');
    const headB = byName.get('classifier.bias');
    if (!headW || !headB) throw new EngineError('INTERNAL', 'internal: the weights snapshot has no classifier head');
    const sameShape = (a: readonly number[], b: readonly number[]) =>
      a.length === b.length && a.every((d, i) => d === b[i]);
    if (
      !sameShape(this.params.classifier.w.shape, headW.shape) ||
      !sameShape(this.params.classifier.b.shape, headB.shape)
    ) {
      // Another number of labels: variables of the snapshot's shape (values are assigned below).
      const w = tf.tidy(() => tf.variable(tf.zeros(headW.shape as [number, number]), true)) as tf.Variable<tf.Rank.R2>;
      const b = tf.tidy(() => tf.variable(tf.zeros(headB.shape as [number]), true)) as tf.Variable<tf.Rank.R1>;
      this.params.classifier.w.dispose();
      this.params.classifier.b.dispose();
      this.params.classifier = { w, b };
    }
    const config = structuredClone(snapshot.config);
    for (const { name, variable } of namedParams(this.params, config)) {
      const value = byName.get(name);
      if (!value || !sameShape(variable.shape, value.shape))
        throw new EngineError('INTERNAL', `internal: the weights snapshot does not fit ${name}`);
      tf.tidy(() => variable.assign(tf.tensor(value.data, value.shape, 'float32')));
    }
    this.config = config;
    this.promptConfig = snapshot.prompt ? structuredClone(snapshot.prompt) : null;
    // Snapshots from before SetFit existed have neither field.
    if (snapshot.sentenceTransformers !== undefined)
      this.sentenceTransformersConfig = snapshot.sentenceTransformers
        ? structuredClone(snapshot.sentenceTransformers)
        : null;
    this.setfitHeadState = snapshot.setfit ? structuredClone(snapshot.setfit.head) : null;
    this.setfitExamplesState = snapshot.setfit?.examples ?? null;
    this.loadReport.initialized = [...snapshot.initialized];
  }

  /** Tokenizes inputs for classification, truncating to `maxLength` (longest_first). */
  encode(
    inputs: readonly TextInput[],
    labelIndices: readonly number[] | null,
    maxLength: number,
  ): { examples: EncodedExample[]; truncated: number[] } {
    const truncated: number[] = [];
    const examples = inputs.map((input, i) => {
      const full = this.tokenizer.encode(input.text, input.textPair ?? null, {});
      let encoding: Encoding = full;
      if (full.ids.length > maxLength) {
        truncated.push(i);
        encoding = this.tokenizer.encode(input.text, input.textPair ?? null, {
          truncation: 'longest_first',
          maxLength,
        });
      }
      return {
        inputIds: encoding.ids,
        tokenTypeIds: encoding.tokenTypeIds,
        label: labelIndices ? labelIndices[i] : -1,
      };
    });
    return { examples, truncated };
  }

  /**
   * How the tokenizer splits `text`: its pieces and their vocabulary ids, special tokens left out
   * (the playground shows them, e.g. one piece per CJK character, or [UNK] where the vocabulary has none).
   */
  tokenize(text: string): { tokens: string[]; ids: number[] } {
    const encoding = this.tokenizer.encode(text, null, { addSpecialTokens: false });
    return { tokens: encoding.tokens, ids: encoding.ids };
  }

  /** Token counts (special tokens included) without truncation, for length statistics. */
  tokenLengths(inputs: readonly TextInput[]): number[] {
    return inputs.map((input) => this.tokenizer.encode(input.text, input.textPair ?? null, {}).ids.length);
  }

  /** Class probabilities: through the prompt when one is set, else through the classifier head. */
  async predict(
    inputs: readonly TextInput[],
    options: { maxLength?: number; batchSize?: number } = {},
  ): Promise<Prediction[]> {
    this.assertAlive();
    if (this.setfitHeadState) {
      // SetFit (docs/ARCHITECTURE.md, "SetFit"): the pipeline's pooled [N][H] embeddings, then softmax(W·e + b) [N][L].
      const head = this.setfitHeadState;
      const embeddings = await this.embed(inputs, options);
      return toPredictions(head.labels, logisticRegressionProbabilities(head, embeddings));
    }
    if (this.promptConfig) return predictWithPrompt(this, this.promptConfig, inputs, options);
    return this.predictWithHead(inputs, options);
  }

  /** Class probabilities from the classifier head, whatever prompt is set. */
  async predictWithHead(
    inputs: readonly TextInput[],
    options: { maxLength?: number; batchSize?: number } = {},
  ): Promise<Prediction[]> {
    this.assertAlive();
    const labels = Object.keys(this.config.id2label ?? {})
      .map(Number)
      .sort((a, b) => a - b)
      .map((i) => this.config.id2label![String(i)]);
    if (labels.length === 0)
      throw new EngineError(
        'MODEL_NO_CLASSIFIER',
        'This model has no classifier labels yet. Load labeled data and train first.',
      );
    const maxLength = Math.min(options.maxLength ?? DEFAULT_MAX_LENGTH, this.maxLength);
    const { examples } = this.encode(inputs, null, maxLength);
    const probs = await predictClassProbabilities(
      this.params,
      this.config,
      examples,
      options.batchSize ?? 32,
      maxLength,
    );
    const L = labels.length;
    return toPredictions(
      labels,
      inputs.map((_, i) => Array.from(probs.subarray(i * L, (i + 1) * L))),
    );
  }

  /**
   * Top-k tokens for every [MASK] in `text`, from the MLM head. One list per mask, in order.
   */
  async fillMask(text: string, topK = 5): Promise<FillMaskCandidate[][]> {
    this.assertAlive();
    const maskId = this.tokenizer.maskTokenId;
    if (maskId === null)
      throw new EngineError(
        'MODEL_NO_MASK_TOKEN',
        'This vocabulary has no [MASK] token, so fill-mask is not available.',
      );
    const encoding = this.tokenizer.encode(text, null, { truncation: 'longest_first', maxLength: this.maxLength });
    const positions = encoding.ids.flatMap((id, i) => (id === maskId ? [i] : []));
    if (positions.length === 0) {
      throw new EngineError(
        'FILL_MASK_NO_MASK',
        `The text has no ${this.tokenizer.config.maskToken} token. Write it where the missing word goes, e.g. "the movie was ${this.tokenizer.config.maskToken} ."`,
      );
    }
    const k = Math.max(1, Math.min(topK, this.config.vocab_size));
    const T = encoding.ids.length;
    const { values, indices } = tf.tidy(() => {
      const inputIds = tf.tensor2d(encoding.ids, [1, T], 'int32'); // [1, T]
      const tokenTypeIds = tf.tensor2d(encoding.tokenTypeIds, [1, T], 'int32'); // [1, T]
      const hidden = bertEncoder(this.params, this.config, { inputIds, tokenTypeIds }); // [1, T, H]
      const rows = gatherPositions(hidden, tf.tensor1d(positions, 'int32')); // [M, H]
      const probs = tf.softmax(mlmLogitsRows(this.params, this.config, rows), -1); // [M, V]
      return tf.topk(probs, k); // [M, k] each
    });
    const [probValues, idValues] = await Promise.all([values.data(), indices.data()]);
    tf.dispose([values, indices]);
    return positions.map((_, m) =>
      Array.from({ length: k }, (_, j) => {
        const id = idValues[m * k + j];
        return { id, token: this.tokenizer.idToToken(id) ?? `[${id}]`, probability: probValues[m * k + j] };
      }),
    );
  }

  /** The sentence-transformers pipeline of the folder this model came from, or null. */
  get sentenceTransformers(): SentenceTransformersConfig | null {
    return this.sentenceTransformersConfig;
  }

  /**
   * Sentence embeddings [N][H] (docs/ARCHITECTURE.md, "Sentence-transformers folders"). A sentence-transformers
   * folder's pooling (CLS, masked mean or masked max; then L2 normalisation when it ends with Normalize) and
   * max_seq_length (capped by the model); otherwise masked mean pooling, not normalized, at most 128 tokens.
   * `maxLength` overrides the length (still capped by the model).
   */
  async embed(
    inputs: readonly TextInput[],
    options: { maxLength?: number; batchSize?: number } = {},
  ): Promise<number[][]> {
    this.assertAlive();
    const st = this.sentenceTransformersConfig;
    const maxLength = Math.min(
      options.maxLength ?? (st ? (st.maxSeqLength ?? this.maxLength) : DEFAULT_MAX_LENGTH),
      this.maxLength,
    );
    const pooling = st?.pooling ?? 'mean';
    const batchSize = Math.max(1, options.batchSize ?? 32);
    const lower = (t: string) => (st?.doLowerCase ? t.toLowerCase() : t);
    const out: number[][] = [];
    for (let start = 0; start < inputs.length; start += batchSize) {
      const chunk = inputs.slice(start, start + batchSize);
      const encodings = this.tokenizer.encodeBatch(
        chunk.map((input) =>
          input.textPair === undefined || input.textPair === null
            ? lower(input.text)
            : ([lower(input.text), lower(input.textPair)] as [string, string]),
        ),
        { truncation: 'longest_first', maxLength, padding: 'longest' },
      );
      const B = encodings.length;
      const T = encodings[0].ids.length;
      const pooled = tf.tidy(() => {
        const inputIds = tf.tensor2d(
          encodings.flatMap((e) => e.ids),
          [B, T],
          'int32',
        ); // [B, T]
        const tokenTypeIds = tf.tensor2d(
          encodings.flatMap((e) => e.tokenTypeIds),
          [B, T],
          'int32',
        ); // [B, T]
        const attentionMask = tf.tensor2d(
          encodings.flatMap((e) => e.attentionMask),
          [B, T],
          'int32',
        ); // [B, T]
        const hidden = bertEncoder(this.params, this.config, { inputIds, tokenTypeIds, attentionMask }); // [B, T, H]
        const vectors = sentencePool(hidden, attentionMask, pooling); // [B, H]
        return st?.normalize ? l2Normalize(vectors) : vectors; // [B, H]
      });
      const data = await pooled.data();
      pooled.dispose();
      const H = pooled.shape[1];
      for (let b = 0; b < B; b++) out.push(Array.from(data.subarray(b * H, (b + 1) * H)));
    }
    return out;
  }

  /** The model as a Hugging Face folder (file name → bytes). Bit-exact round trip in F32. */
  async exportFiles(
    options: { dtype?: 'F32' | 'F16'; extraConfig?: Record<string, unknown> } = {},
  ): Promise<Map<string, Uint8Array>> {
    this.assertAlive();
    const labels = this.labels;
    const prompt = this.promptConfig;
    const setfit = this.setfitHeadState;
    // A prompt model is used through its MLM head, so it loads in transformers as BertForMaskedLM; a SetFit
    // body is a plain encoder (sentence-transformers loads it with AutoModel).
    const architectures = setfit
      ? ['BertModel']
      : !prompt && labels.length > 0 && this.hasTrainedClassifier
        ? ['BertForSequenceClassification']
        : ['BertForMaskedLM'];
    const labelMaps = prompt
      ? {
          id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
          label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
        }
      : {};
    const config = {
      ...bertConfigToJson({ ...this.config, ...labelMaps, architectures }),
      ...(prompt ? promptExtraConfig(prompt) : {}),
      ...(options.extraConfig ?? {}),
    };
    const tokenizerConfig = this.tokenizer.toTokenizerConfig();
    const specialTokensMap: Record<string, string> = {
      unk_token: this.tokenizer.config.unkToken,
      sep_token: this.tokenizer.config.sepToken,
      pad_token: this.tokenizer.config.padToken,
      cls_token: this.tokenizer.config.clsToken,
    };
    if (this.tokenizer.config.maskToken) specialTokensMap.mask_token = this.tokenizer.config.maskToken;
    const files = exportFolder({
      config,
      vocabTxt: this.tokenizer.toVocabTxt(),
      tokenizerConfig: tokenizerConfig as Record<string, unknown>,
      specialTokensMap,
      tensors: await paramsToTensorMap(this.params, this.config),
      dtype: options.dtype ?? 'F32',
    });
    if (setfit) {
      // A sentence-transformers folder plus the head (docs/ARCHITECTURE.md, "Sentence-transformers folders").
      const st = this.sentenceTransformersConfig!;
      const pipeline = { ...st, maxSeqLength: st.maxSeqLength ?? this.maxLength };
      for (const [name, bytes] of sentenceTransformersFiles(pipeline, this.config.hidden_size)) files.set(name, bytes);
      for (const [name, bytes] of setfitHeadFiles(setfit)) files.set(name, bytes);
      files.set('README.md', new TextEncoder().encode(setfitModelCard(setfit, this.name)));
    }
    return files;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    disposeBertParams(this.params, this.config);
  }

  private assertAlive(): void {
    if (this.disposed) throw new EngineError('MODEL_DISPOSED', 'This model was unloaded; load a model first.');
  }
}
