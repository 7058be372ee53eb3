/** Dataset files: parsing (CSV/TSV/JSONL) and column detection. */
export * from './parse';
export * from './detect';
