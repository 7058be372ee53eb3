/** BERT WordPiece tokenizer with Hugging Face semantics; see bert-tokenizer.ts. */
export {
  BertTokenizer,
  DEFAULT_BERT_TOKENIZER_CONFIG,
  cleanUpTokenizationSpaces,
  type BertTokenizerConfig,
  type DecodeOptions,
  type EncodeInput,
  type EncodeOptions,
  type Encoding,
  type HfTokenizerConfigJson,
  type PaddingStrategy,
  type TemplatePiece,
  type TruncationStrategy,
} from './bert-tokenizer';
export { parseVocabTxt, vocabFromIdMap, type Vocab } from './vocab';
