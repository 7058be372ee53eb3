/** MLM pretraining: corpus packing, dynamic masking, the MLM loss head and the pretrainer (browser-safe parts only; Node file I/O is in node-corpus.ts and node-store.ts). */
export * from './corpus';
export * from './masking';
export * from './mlm-head';
