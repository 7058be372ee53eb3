/**
 * Plain words for the prompt-learning concepts the studio shows (one sentence each, where the
 * concept appears), each with the user guide's section that says more. The guide ships with the
 * studio as docs/USER_GUIDE.html (scripts/docs-pages.ts); tests/docs-links.test.ts checks every
 * anchor here exists in docs/USER_GUIDE.md.
 */
export type ConceptId =
  'template' | 'mask' | 'labelWords' | 'calibration' | 'promptMethod' | 'headMethod' | 'setfitMethod' | 'zeroShot';

export interface Concept {
  /** One sentence, no jargon. */
  text: string;
  /** The user guide's heading id that explains it. */
  anchor: string;
}

export const CONCEPTS: Record<ConceptId, Concept> = {
  template: {
    text: 'A template is a sentence around your text with one blank, [MASK]: "{text} It was [MASK]." turns a review into a fill-in-the-blank question.',
    anchor: 'template',
  },
  mask: {
    text: '[MASK] is the blank: the model learned to guess hidden words while it was pretrained, and here it guesses the word in that spot.',
    anchor: 'the-mask',
  },
  labelWords: {
    text: 'Label words are the answers that stand for each label: if the model finds "great" likelier in the blank than "terrible", the text counts as positive. Use one common word per label.',
    anchor: 'label-words',
  },
  calibration: {
    text: 'Calibration corrects a model that prefers one label word whatever the text: it measures each word on empty inputs ("" and "N/A") and divides that preference out.',
    anchor: 'calibration',
  },
  promptMethod: {
    text: 'each example becomes a fill-in-the-blank sentence (a template) and the model learns to put the right label word in the blank, reusing what it already knows about words; usually better with very few examples (the LM-BFF method).',
    anchor: 'prompt-based-training',
  },
  headMethod: {
    text: "a small new layer reads the model's summary of the whole text and learns your labels from scratch, while the model itself is fine-tuned too.",
    anchor: 'train',
  },
  setfitMethod: {
    text: 'the model first learns from pairs of your examples which texts mean the same kind of thing, then a simple classifier sorts its sentence summaries; pick it with a sentence-embedding model (e.g. all-MiniLM-L6-v2) and 8 to 64 examples per label, and above all when there are many labels with few examples each.',
    anchor: 'setfit',
  },
  zeroShot: {
    text: 'No training: the model fills the blank of the template, and the label whose words it finds likeliest wins.',
    anchor: 'zero-shot-prompt',
  },
};

/** The user guide's page (shipped with the studio) at a section. */
export function guideUrl(anchor: string): string {
  return `docs/USER_GUIDE.html#${anchor}`;
}
