/**
 * Shared types for weights I/O. Every reader (safetensors, pytorch_model.bin, shards) decodes to
 * `RawTensor`s in float32; the model layer (src/engine/bert/weights.ts) maps Hugging Face names
 * onto its own parameters and asserts shapes.
 */

/** One decoded tensor: row-major float32 data with its Hugging Face name and shape. */
export interface RawTensor {
  /** Hugging Face parameter name as stored in the file, e.g. `bert.embeddings.word_embeddings.weight`. */
  name: string;
  /** Shape in PyTorch order (Linear.weight is [out, in]). */
  shape: number[];
  /** Row-major data, always decoded to float32. */
  data: Float32Array;
}

/** Named tensors in file order. */
export type TensorMap = Map<string, RawTensor>;
