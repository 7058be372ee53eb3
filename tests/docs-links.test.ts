/**
 * The studio's help links land on real sections: every concept's anchor is a heading of
 * docs/USER_GUIDE.md, and the page the studio ships for it (scripts/docs-pages.ts) carries that id.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { docPage, headingIds, headingSlug, markdownPage } from '../scripts/docs-pages';
import { CONCEPTS, guideUrl } from '../src/ui/concepts';

describe('help links', () => {
  it('point at headings of the user guide, present in the shipped page', () => {
    const ids = new Set(headingIds(readFileSync('docs/USER_GUIDE.md', 'utf8')));
    const page = docPage('USER_GUIDE');
    for (const [id, concept] of Object.entries(CONCEPTS)) {
      expect(ids.has(concept.anchor), `${id} → #${concept.anchor}`).toBe(true);
      expect(page).toContain(`id="${concept.anchor}"`);
      expect(guideUrl(concept.anchor)).toBe(`docs/USER_GUIDE.html#${concept.anchor}`);
      // One sentence in plain words: none of the jargon the guide explains elsewhere.
      expect(concept.text).not.toMatch(/\[CLS\]|MLM|cloze|content-free/);
    }
  });

  it('between the docs land on real files and headings (the guide and the CLI reference link to each other)', () => {
    const docs = readdirSync('docs').filter((f) => f.endsWith('.md'));
    let checked = 0;
    for (const file of docs) {
      const text = readFileSync(`docs/${file}`, 'utf8');
      for (const [, target, anchor] of text.matchAll(/\]\(([A-Z_]+\.md)?#([^)\s]+)\)/g)) {
        const linked = target ?? file;
        expect(existsSync(`docs/${linked}`), `${file} → ${linked}`).toBe(true);
        expect(headingIds(readFileSync(`docs/${linked}`, 'utf8')), `${file} → ${linked}#${anchor}`).toContain(anchor);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(10);
  });

  it('use GitHub heading ids, skip code blocks and escape HTML', () => {
    expect(headingSlug('The [MASK]')).toBe('the-mask');
    expect(headingSlug('`predict`: label new texts')).toBe('predict-label-new-texts');
    expect(headingIds('# A\n```\n# not a heading\n```\n## A\n### B c')).toEqual(['a', 'a-1', 'b-c']);
    const page = markdownPage('t', '## Fill the <b>\ntext & more');
    expect(page).toContain('<h2 id="fill-the-b">Fill the &lt;b&gt;</h2>');
    expect(page).toContain('<pre>text &amp; more</pre>');
  });
});
