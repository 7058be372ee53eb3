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

/** Error with a stable machine-readable code, used across the engine for bad input. */
export class EngineError extends Error {
  constructor(
    /** Stable code such as `SAFETENSORS_BAD_HEADER`; UI and CLI switch on it. */
    public readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}
