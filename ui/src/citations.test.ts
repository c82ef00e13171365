import { linkCitations, splitId } from './citations';
import { parseLocation, routeURL } from './router';

test('splitId keeps spaces inside a law name', () => {
  expect(splitId('민법 제618조')).toEqual(['민법', '제618조']);
  expect(splitId('국토의 계획 및 이용에 관한 법률 시행령 제56조')).toEqual(['국토의 계획 및 이용에 관한 법률 시행령', '제56조']);
});

test('linkCitations finds 「law」 and bare mentions, and not 제3조 inside 제3조의2', () => {
  const cites = [
    { id: '민법 제618조', resolved: true },
    { id: '주택임대차보호법 제3조', resolved: false },
  ];
  const parts = linkCitations('「민법」 제618조와 주택임대차보호법 제3조의2, 주택임대차보호법 제3조를 보세요.', cites);
  const linked = parts.filter((p) => p.citation).map((p) => [p.text, p.citation!.id]);
  expect(linked).toEqual([
    ['「민법」 제618조', '민법 제618조'],
    ['주택임대차보호법 제3조', '주택임대차보호법 제3조'],
  ]);
  expect(parts.map((p) => p.text).join('')).toBe('「민법」 제618조와 주택임대차보호법 제3조의2, 주택임대차보호법 제3조를 보세요.');
  expect(linkCitations('조문 없음', [])).toEqual([{ text: '조문 없음' }]);
});

test('routes round-trip through URLs', () => {
  for (const r of [
    { q: '보증금', statute: null, precedent: null },
    { q: null, statute: '민법 제618조', precedent: null },
    { q: '월급', statute: null, precedent: '2018다240424, 240431' },
  ]) {
    const u = new URL(routeURL(r), 'http://x');
    expect(parseLocation(u)).toEqual(r);
  }
  expect(parseLocation({ pathname: '/statute/', search: '?q=%20' })).toEqual({ q: null, statute: null, precedent: null });
});
