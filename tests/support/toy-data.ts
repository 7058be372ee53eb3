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
