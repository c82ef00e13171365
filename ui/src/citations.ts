// Finding an answer's citations in its text, so that each mention links to its article.
import type { CitationRef } from './types';

export interface TextPart {
  text: string;
  citation?: CitationRef;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** "민법 제618조" → ["민법", "제618조"]; the law may contain spaces, the article starts with 제. */
export function splitId(id: string): [string, string] {
  const i = id.lastIndexOf(' 제');
  return i < 0 ? ['', id] : [id.slice(0, i), id.slice(i + 1)];
}

/**
 * Splits text at every mention of a cited article — "「민법」 제618조", "민법 제618조" — and marks
 * the mention with its citation. Text without mentions comes back as one part.
 */
export function linkCitations(text: string, citations: CitationRef[]): TextPart[] {
  const alts: { re: string; c: CitationRef }[] = [];
  for (const c of citations) {
    const [law, article] = splitId(c.id);
    if (!law) continue;
    // 제618조 must not match the start of 제618조의2.
    alts.push({ re: `「?${escapeRegExp(law)}」?\\s*${escapeRegExp(article)}(?!의\\d)`, c });
  }
  if (alts.length === 0) return [{ text }];
  alts.sort((a, b) => b.re.length - a.re.length);
  const re = new RegExp(alts.map((a) => `(${a.re})`).join('|'), 'g');
  const parts: TextPart[] = [];
  let last = 0;
  for (const m of text.matchAll(re)) {
    const idx = m.index ?? 0;
    if (idx > last) parts.push({ text: text.slice(last, idx) });
    const which = m.slice(1).findIndex((g) => g !== undefined);
    parts.push({ text: m[0], citation: alts[which].c });
    last = idx + m[0].length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return parts;
}
