/** BERT in tfjs: config, parameters, forward pass, heads and Hugging Face weight mapping. */
export * from './config';
export * from './params';
export * from './model';
export * from './weights';
