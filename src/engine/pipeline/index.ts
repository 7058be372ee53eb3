/** Browser-safe entry of the pipeline (the Node helpers live in ./node). */
export * from './fewshot-model';
