/**
 * The user guides as plain pages the studio serves (docs/<NAME>.html), so its help links open
 * offline, at the right section: every Markdown heading becomes an anchored heading with the id
 * GitHub gives it, everything else stays as preformatted text. Used by vite.config.ts at build
 * time and by the dev server; the UI's links are checked against these ids in
 * tests/docs-links.test.ts.
 */
import { readFileSync } from 'node:fs';

/** The docs the studio links to. */
export const SHIPPED_DOCS = ['USER_GUIDE', 'PROMPT_LEARNING', 'SETFIT'] as const;

/** GitHub's heading id: lower case, punctuation dropped (but `-` and `_`), spaces → `-`. */
export function headingSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Every heading id of a Markdown text (a repeated heading gets `-1`, `-2`, … as on GitHub). */
export function headingIds(markdown: string): string[] {
  const seen = new Map<string, number>();
  const ids: string[] = [];
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = !fenced && /^(#{1,6})\s+(.*)$/.exec(line);
    if (!m) continue;
    const base = headingSlug(m[2]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    ids.push(n === 0 ? base : `${base}-${n}`);
  }
  return ids;
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A Markdown file as an HTML page: anchored headings, the rest preformatted. */
export function markdownPage(title: string, markdown: string): string {
  const ids = headingIds(markdown);
  let next = 0;
  let fenced = false;
  let body = '';
  let pre: string[] = [];
  const flush = () => {
    if (pre.join('').trim()) body += `<pre>${escape(pre.join('\n'))}</pre>\n`;
    pre = [];
  };
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = !fenced && /^(#{1,6})\s+(.*)$/.exec(line);
    if (!m) {
      pre.push(line);
      continue;
    }
    flush();
    const level = m[1].length;
    body += `<h${level} id="${ids[next++]}">${escape(m[2])}</h${level}>\n`;
  }
  flush();
  return (
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${escape(title)} · FewShot Studio</title>` +
    '<style>body{font:15px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem}' +
    'pre{white-space:pre-wrap;font:14px/1.5 ui-monospace,monospace}</style></head><body>\n' +
    body +
    '</body></html>\n'
  );
}

/** The page for one shipped doc, read from docs/<name>.md. */
export function docPage(name: string): string {
  return markdownPage(name.replace(/_/g, ' ').toLowerCase(), readFileSync(`docs/${name}.md`, 'utf8'));
}
