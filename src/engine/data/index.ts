/** Dataset files → labeled examples: parsing, column detection, mapping, summary. */
export { parseDatasetFile, parseDatasetStream, DatasetParser, sniffDelimiter, MAX_WARNING_ROWS } from './parse';
export { decodeDatasetBytes, DatasetDecoder, scanUtf8 } from './decode';
export { detectColumns, applyColumnMapping } from './detect';
export { summarizeDataset, MAX_SUMMARY_ROWS, type SummaryOptions } from './summary';
export * from './dataset';
export * from './validate';
export { stratifiedFolds } from './folds';
export { normalizeName, TEXT_NAMES, PAIR_NAMES, LABEL_NAMES } from './names';
export type * from './types';
