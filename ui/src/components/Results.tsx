// The lists under the answer: similar Q&A, precedents, statutes to consider.
import type { CitationRef, PrecedentMatch, QAMatch, StatuteMatch } from '../types';

export function StatuteChip({ c, onOpenStatute }: { c: CitationRef; onOpenStatute(id: string): void }) {
  if (!c.resolved) {
    return (
      <span className="chip unresolved" title="LawBot의 조문 자료에 없는 조문입니다">
        {c.id} <span className="sr-only">(원문 없음)</span>
      </span>
    );
  }
  return (
    <button type="button" className="chip" onClick={() => onOpenStatute(c.id)} aria-label={`${c.id} 조문 열기`}>
      {c.id}
    </button>
  );
}

export function SimilarQA({ items }: { items: QAMatch[] }) {
  if (items.length === 0) return <p className="empty">비슷한 상담 사례를 찾지 못했습니다.</p>;
  return (
    <ul className="qa-list">
      {items.map(({ qa }, i) => (
        <li key={i}>
          <details>
            <summary>
              <span className="qa-q">{qa.question}</span>
              {qa.category && <span className="muted small"> · {qa.category}</span>}
            </summary>
            <div className="qa-a">
              {qa.answer.split('\n').map((line, j) => (
                <p key={j}>{line}</p>
              ))}
              {qa.url && (
                <p>
                  <a href={qa.url} target="_blank" rel="noopener noreferrer">
                    원문 보기 (찾기쉬운 생활법령정보)
                  </a>
                </p>
              )}
            </div>
          </details>
        </li>
      ))}
    </ul>
  );
}

interface PrecedentProps {
  items: PrecedentMatch[];
  onOpenPrecedent(caseNumber: string): void;
  onOpenStatute(id: string): void;
}

export function PrecedentList({ items, onOpenPrecedent, onOpenStatute }: PrecedentProps) {
  if (items.length === 0) return <p className="empty">비슷한 판례를 찾지 못했습니다.</p>;
  return (
    <ul className="cards">
      {items.map(({ precedent: p }) => (
        <li key={p.caseNumber} className="card">
          <h3>
            <button type="button" className="link" onClick={() => onOpenPrecedent(p.caseNumber)}>
              {p.caseNumber}
            </button>{' '}
            <span className="case-title">{p.title}</span>
          </h3>
          <dl className="meta">
            <div>
              <dt>법원</dt>
              <dd>{p.court}</dd>
            </div>
            <div>
              <dt>선고일</dt>
              <dd>{p.date}</dd>
            </div>
          </dl>
          <p className="label">판시사항</p>
          <p className="holding">{p.holding}</p>
          {p.citedStatutes.length > 0 && (
            <>
              <p className="label">참조조문</p>
              <ul className="chips">
                {p.citedStatutes.map((c) => (
                  <li key={c.id}>
                    <StatuteChip c={c} onOpenStatute={onOpenStatute} />
                  </li>
                ))}
              </ul>
            </>
          )}
        </li>
      ))}
    </ul>
  );
}

export function StatuteList({ items, onOpenStatute }: { items: StatuteMatch[]; onOpenStatute(id: string): void }) {
  if (items.length === 0) return <p className="empty">살펴볼 조문을 찾지 못했습니다.</p>;
  return (
    <ol className="statutes">
      {items.map(({ statute: s, reasons }) => (
        <li key={s.id} className="card">
          <h3>
            <button type="button" className="link" onClick={() => onOpenStatute(s.id)}>
              {s.id}
              {s.title && <span className="st-title"> ({s.title})</span>}
            </button>
          </h3>
          <ul className="reasons">
            {reasons.slice(0, 3).map((r) => (
              <li key={r}>{r}</li>
            ))}
          </ul>
          {s.citedByCount > 0 && <p className="muted small">판례 {s.citedByCount.toLocaleString()}건이 인용</p>}
        </li>
      ))}
    </ol>
  );
}
