/** Small labeled data over the golden micro model's vocabulary (tests/fixtures/golden-micro). */

/** 20 toy reviews over the golden vocabulary, 10 per label. */
export function reviewsCsv(): string {
  const subjects = ['the movie', 'the film', 'this story', 'the book', 'the show'];
  const rows = subjects.flatMap((s) => [
    `${s} was good,positive`,
    `i loved ${s},positive`,
    `${s} was bad,negative`,
    `i hated ${s},negative`,
  ]);
  return `text,label\n${rows.join('\n')}\n`;
}

const FILLERS = [
  'the',
  'cat',
  'dog',
  'sat',
  'on',
  'mat',
  'big',
  'small',
  'red',
  'tree',
  'house',
  'day',
  'night',
  'water',
  'book',
];

/** Sentiment-like toy rows from the golden vocabulary: the label (pos/neg) is carried by one keyword. */
export function toyExamples(count: number, seed: number): { text: string; label: string }[] {
  let state = seed;
  const rand = (n: number) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % n;
  };
  return Array.from({ length: count }, (_, i) => {
    const positive = i % 2 === 0;
    const words = Array.from({ length: 3 + rand(5) }, () => FILLERS[rand(FILLERS.length)]);
    words.splice(rand(words.length + 1), 0, positive ? 'great' : 'terrible');
    return { text: words.join(' '), label: positive ? 'pos' : 'neg' };
  });
}

/** The same rows as a CSV (header text,label). */
export function toyCsv(count: number, seed: number): string {
  const lines = toyExamples(count, seed).map((r) => `"${r.text}",${r.label}`);
  return `text,label\n${lines.join('\n')}\n`;
}
