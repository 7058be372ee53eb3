/**
 * Extra files beside an exported model (docs/ARCHITECTURE.md, "SetFit"): a SetFit folder keeps its own
 * README.md (how to load body and head in Python) and gets the studio's model card under "Training".
 */
import { describe, expect, it } from 'vitest';
import { addExtraFiles } from './export';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);
const studioCard = '---\nlibrary_name: transformers\n---\n\n# m fine-tuned\n\n## Dev metrics\n\nAccuracy 90 %.\n';

describe('addExtraFiles', () => {
  it("appends the studio's card to a SetFit folder's README, without its front matter and title", () => {
    const files = new Map([
      ['README.md', bytes('---\nlibrary_name: sentence-transformers\n---\n\n# m (SetFit)\n\n## Use in Python\n')],
      ['setfit_head.json', bytes('{}')],
    ]);
    addExtraFiles(files, { 'README.md': bytes(studioCard), 'metrics.json': bytes('{}') });
    const readme = text(files.get('README.md'));
    expect(readme).toMatch(/^---\nlibrary_name: sentence-transformers\n---/);
    expect(readme).toContain('## Use in Python');
    expect(readme).toContain('## Training\n\n### Dev metrics\n\nAccuracy 90 %.');
    expect(readme).not.toContain('library_name: transformers');
    expect(readme).not.toContain('# m fine-tuned');
    expect(text(files.get('metrics.json'))).toBe('{}');
  });

  it("replaces a plain folder's README with the caller's", () => {
    const files = new Map([['README.md', bytes('old')]]);
    addExtraFiles(files, { 'README.md': bytes(studioCard) });
    expect(text(files.get('README.md'))).toBe(studioCard);
  });
});
