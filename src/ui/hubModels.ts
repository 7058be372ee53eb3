/** Well-known BERT checkpoints on the Hugging Face Hub offered by the Model panel's picker. */
export const HUB_MODELS = [
  { repo: 'prajjwal1/bert-tiny', size: '17 MB', params: '4.4M' },
  { repo: 'prajjwal1/bert-mini', size: '45 MB', params: '11M' },
  { repo: 'prajjwal1/bert-small', size: '116 MB', params: '29M' },
  { repo: 'prajjwal1/bert-medium', size: '166 MB', params: '41M' },
  { repo: 'google/bert_uncased_L-4_H-256_A-4', size: '45 MB', params: '11M' },
  { repo: 'google/bert_uncased_L-4_H-512_A-8', size: '116 MB', params: '29M' },
  { repo: 'microsoft/MiniLM-L12-H384-uncased', size: '133 MB', params: '33M' },
  { repo: 'google-bert/bert-base-uncased', size: '440 MB', params: '110M' },
] as const;

/**
 * Hub mirror for dev and test builds only (`?hub=http://127.0.0.1:PORT`): lets e2e tests serve the
 * Hub URL layout from a loopback server. Production builds always use huggingface.co.
 */
export function hubBaseUrl(): string | undefined {
  if (import.meta.env.MODE === 'production') return undefined;
  return new URLSearchParams(window.location.search).get('hub') ?? undefined;
}
