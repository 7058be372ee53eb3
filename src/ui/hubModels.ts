/**
 * Well-known BERT checkpoints on the Hugging Face Hub offered by the Model panel's picker. `size` is
 * the float32 weights file (model.safetensors or pytorch_model.bin) as the Hub lists it; `params`
 * follows from it (4 bytes each). Every entry is `model_type: "bert"` with a vocab.txt (checked on
 * the Hub's config.json and file list before it was added; tests/hub-models.test.ts checks the list).
 */
export const HUB_MODELS = [
  { repo: 'prajjwal1/bert-tiny', size: '17 MB', params: '4.4M', language: 'English' },
  { repo: 'prajjwal1/bert-mini', size: '45 MB', params: '11M', language: 'English' },
  { repo: 'prajjwal1/bert-small', size: '116 MB', params: '29M', language: 'English' },
  { repo: 'prajjwal1/bert-medium', size: '166 MB', params: '41M', language: 'English' },
  { repo: 'google/bert_uncased_L-4_H-256_A-4', size: '45 MB', params: '11M', language: 'English' },
  { repo: 'google/bert_uncased_L-4_H-512_A-8', size: '116 MB', params: '29M', language: 'English' },
  { repo: 'microsoft/MiniLM-L12-H384-uncased', size: '133 MB', params: '33M', language: 'English' },
  { repo: 'google-bert/bert-base-uncased', size: '440 MB', params: '110M', language: 'English' },
  // Sentence-embedding BERTs (sentence-transformers folders: the loader reads their modules.json and
  // pools as they say). Checked on the Hub: config.json model_type "bert", BertModel, hidden 384,
  // 30,522-token uncased vocabulary; all-MiniLM-L6-v2 has 6 layers and modules Transformer → Pooling
  // (mean) → Normalize; paraphrase-MiniLM-L3-v2 has 3 layers.
  { repo: 'sentence-transformers/all-MiniLM-L6-v2', size: '90.9 MB', params: '22.7M', language: 'English' },
  { repo: 'sentence-transformers/paraphrase-MiniLM-L3-v2', size: '69.6 MB', params: '17.4M', language: 'English' },
  // Two more sentence-embedding BERTs (BertModel, 12 layers, hidden 384, 30,522-token uncased
  // vocabulary, 33.4M parameters; modules Transformer → Pooling → Normalize, as their modules.json
  // and pooling configs say): bge-small-en-v1.5 pools the [CLS] state, e5-small-v2 takes the mean
  // over the tokens (its card asks for texts prefixed "query: " when the embeddings are features).
  { repo: 'BAAI/bge-small-en-v1.5', size: '133 MB', params: '33.4M', language: 'English' },
  { repo: 'intfloat/e5-small-v2', size: '133 MB', params: '33.4M', language: 'English' },
  // Chinese sentence embeddings (4 layers, hidden 512, bert-base-chinese's 21,128-token vocabulary,
  // cased: do_lower_case false): the smallest Chinese model here, quick to fine-tune.
  { repo: 'BAAI/bge-small-zh-v1.5', size: '96 MB', params: '24M', language: 'Chinese' },
  // 12 layers, hidden 768, 21,128 tokens (CJK characters one per token).
  { repo: 'google-bert/bert-base-chinese', size: '412 MB', params: '103M', language: 'Chinese' },
  // 104 languages, 119,547 cased tokens (do_lower_case false: accents and case kept).
  { repo: 'google-bert/bert-base-multilingual-cased', size: '714 MB', params: '178M', language: '104 languages' },
  // 102 languages, 105,879 uncased tokens (lower-cased, accents stripped).
  { repo: 'google-bert/bert-base-multilingual-uncased', size: '672 MB', params: '168M', language: '102 languages' },
] as const;

/**
 * Hub mirror for dev and test builds only (`?hub=http://127.0.0.1:PORT`): lets e2e tests serve the
 * Hub URL layout from a loopback server. Production builds always use huggingface.co.
 */
export function hubBaseUrl(): string | undefined {
  if (import.meta.env.MODE === 'production') return undefined;
  return new URLSearchParams(window.location.search).get('hub') ?? undefined;
}
