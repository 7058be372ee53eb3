/**
 * Models shipped with the studio under public/models/ (served from its own origin, so the studio
 * starts with no network). The first entry is what loads at start; `?model=<id>` picks another
 * (tests use the micro model, which is fast on SwiftShader).
 */
export interface EmbeddedModel {
  id: string;
  description: string;
}

export const EMBEDDED_MODELS: readonly EmbeddedModel[] = [
  {
    id: 'fewshot-mini',
    description:
      'BERT-mini shape (4 layers, hidden 256), pretrained by this project on the shared corpus with masked-language modelling on a GPU; its README has the stages, tokens seen and scores',
  },
  {
    id: 'fewshot-tiny',
    description:
      'BERT-tiny shape (2 layers, hidden 128), the earlier default, pretrained on 2 CPU cores: less accurate than fewshot-mini but faster to fine-tune, for slow GPUs',
  },
  {
    id: 'micro-random',
    description:
      'micro BERT (2 layers, hidden 32), random weights, bert-base-uncased vocabulary: fast, for tests and smoke runs',
  },
];

/** The embedded model named by `?model=`, else the default; `unknown` is the rejected value, if any. */
export function pickEmbeddedModel(requested: string | null): { model: EmbeddedModel; unknown: string | null } {
  const found = requested ? EMBEDDED_MODELS.find((m) => m.id === requested) : undefined;
  return { model: found ?? EMBEDDED_MODELS[0], unknown: requested && !found ? requested : null };
}
