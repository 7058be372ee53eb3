/** Prompt learning: cloze templates, verbalizers, zero-shot scoring, prompt fine-tuning, search. */
export * from './template';
export * from './verbalizer';
export * from './zero-shot';
export * from './config';
export * from './search';
export * from './label-words';
