// The side panel: one article's full text (effective date, why it was suggested, the precedents
// that cite it, law.go.kr) or one decision. Opened by /statute/<id> or /precedent/<case number>.
import { useEffect, useRef, useState } from 'react';
import type { Api } from '../api';
import { errorText } from '../messages';
import type { AppError, PrecedentDetail, PrecedentRef, StatuteDetail, StatuteMatch } from '../types';
import { StatuteChip } from './Results';

type Target = { kind: 'statute'; id: string } | { kind: 'precedent'; id: string };

interface Props {
  target: Target;
  api: Api;
  match?: StatuteMatch;
  onClose(): void;
  onOpenStatute(id: string): void;
  onOpenPrecedent(caseNumber: string): void;
}

type Loaded =
  | { state: 'loading' }
  | { state: 'error'; error: AppError }
  | { state: 'missing' }
  | { state: 'statute'; s: StatuteDetail }
  | { state: 'precedent'; p: PrecedentDetail };

function PrecedentRefs({ items, onOpenPrecedent }: { items: PrecedentRef[]; onOpenPrecedent(cn: string): void }) {
  return (
    <ul className="refs">
      {items.map((p) => (
        <li key={p.caseNumber}>
          <button type="button" className="link" onClick={() => onOpenPrecedent(p.caseNumber)}>
            {p.caseNumber}
          </button>{' '}
          <span className="muted small">
            {p.court} · {p.date}
          </span>
          <div className="small">{p.title}</div>
        </li>
      ))}
    </ul>
  );
}

export function DetailPanel({ target, api, match, onClose, onOpenStatute, onOpenPrecedent }: Props) {
  const [loaded, setLoaded] = useState<Loaded>({ state: 'loading' });
  const [attempt, setAttempt] = useState(0);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    let live = true;
    setLoaded({ state: 'loading' });
    const p = target.kind === 'statute' ? api.statute(target.id) : api.precedent(target.id);
    p.then(
      (r) => {
        if (!live) return;
        if (!r) setLoaded({ state: 'missing' });
        else if (target.kind === 'statute') setLoaded({ state: 'statute', s: r as StatuteDetail });
        else setLoaded({ state: 'precedent', p: r as PrecedentDetail });
      },
      (e: AppError) => live && setLoaded({ state: 'error', error: e }),
    );
    return () => {
      live = false;
    };
  }, [api, target.kind, target.id, attempt]);

  useEffect(() => {
    heading.current?.focus();
  }, [target.kind, target.id]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  const kindLabel = target.kind === 'statute' ? '조문' : '판례';
  let title = target.id;
  if (loaded.state === 'statute' && loaded.s.title) title = `${loaded.s.id} (${loaded.s.title})`;
  if (loaded.state === 'precedent') title = `${loaded.p.caseNumber} ${loaded.p.title}`;

  return (
    <aside className="panel" role="dialog" aria-modal="false" aria-labelledby="panel-title">
      <div className="panel-head">
        <span className="kind">{kindLabel}</span>
        <button type="button" className="close" onClick={onClose} aria-label="닫기">
          ✕ 닫기
        </button>
      </div>
      <h2 id="panel-title" tabIndex={-1} ref={heading}>
        {title}
      </h2>
      {loaded.state === 'loading' && <p aria-live="polite">불러오는 중…</p>}
      {loaded.state === 'missing' && (
        <p role="status">
          LawBot의 자료에 「{target.id}」{target.kind === 'statute' ? ' 조문이' : ' 판례가'} 없습니다. 주소가 맞는지 확인해 주세요.
        </p>
      )}
      {loaded.state === 'error' && (
        <div className="error" role="alert">
          <p>
            <strong>{errorText(loaded.error).title}</strong> {errorText(loaded.error).detail}
          </p>
          <button type="button" onClick={() => setAttempt((a) => a + 1)}>
            다시 시도
          </button>
        </div>
      )}
      {loaded.state === 'statute' && (
        <StatuteBody s={loaded.s} match={match} onOpenPrecedent={onOpenPrecedent} />
      )}
      {loaded.state === 'precedent' && (
        <PrecedentBody p={loaded.p} onOpenStatute={onOpenStatute} onOpenPrecedent={onOpenPrecedent} />
      )}
    </aside>
  );
}

function StatuteBody({ s, match, onOpenPrecedent }: { s: StatuteDetail; match?: StatuteMatch; onOpenPrecedent(cn: string): void }) {
  return (
    <div className="panel-body">
      <dl className="meta">
        <div>
          <dt>법령</dt>
          <dd>{s.law}</dd>
        </div>
        {s.effectiveDate && (
          <div>
            <dt>시행일</dt>
            <dd>{s.effectiveDate}</dd>
          </div>
        )}
        {s.chapter && (
          <div>
            <dt>위치</dt>
            <dd>{s.chapter}</dd>
          </div>
        )}
      </dl>
      <section aria-labelledby="st-text">
        <h3 id="st-text">조문 원문</h3>
        <p className="statute-text">{s.text}</p>
      </section>
      {match && match.reasonDetails.length > 0 && (
        <section aria-labelledby="st-why">
          <h3 id="st-why">이 조문을 보여 드린 이유</h3>
          <ul className="reasons">
            {match.reasonDetails.map((r, i) => (
              <li key={i}>
                {r.text} <span className="muted small">({Math.round(r.weight * 100)}%)</span>
              </li>
            ))}
          </ul>
        </section>
      )}
      <section aria-labelledby="st-cited">
        <h3 id="st-cited">이 조문을 인용한 판례 ({s.citedByCount.toLocaleString()}건)</h3>
        {s.citedBy.length > 0 ? <PrecedentRefs items={s.citedBy} onOpenPrecedent={onOpenPrecedent} /> : <p className="empty">없음</p>}
      </section>
      {s.url && (
        <p>
          <a href={s.url} target="_blank" rel="noopener noreferrer" className="external">
            국가법령정보센터(law.go.kr)에서 보기
          </a>
        </p>
      )}
    </div>
  );
}

function PrecedentBody({ p, onOpenStatute, onOpenPrecedent }: { p: PrecedentDetail; onOpenStatute(id: string): void; onOpenPrecedent(cn: string): void }) {
  return (
    <div className="panel-body">
      <dl className="meta">
        <div>
          <dt>사건번호</dt>
          <dd>{p.caseNumber}</dd>
        </div>
        <div>
          <dt>법원</dt>
          <dd>{p.court}</dd>
        </div>
        <div>
          <dt>선고일</dt>
          <dd>{p.date}</dd>
        </div>
        <div>
          <dt>사건 종류</dt>
          <dd>{p.caseType}</dd>
        </div>
      </dl>
      <section aria-labelledby="pr-holding">
        <h3 id="pr-holding">판시사항</h3>
        <p className="statute-text">{p.holding}</p>
      </section>
      {p.summary && (
        <section aria-labelledby="pr-summary">
          <h3 id="pr-summary">판결요지</h3>
          <p className="statute-text">{p.summary}</p>
        </section>
      )}
      {p.disposition && (
        <section aria-labelledby="pr-disp">
          <h3 id="pr-disp">주문</h3>
          <p className="statute-text">{p.disposition}</p>
        </section>
      )}
      {p.citedStatutes.length > 0 && (
        <section aria-labelledby="pr-cites">
          <h3 id="pr-cites">참조조문</h3>
          <ul className="chips">
            {p.citedStatutes.map((c) => (
              <li key={c.id}>
                <StatuteChip c={c} onOpenStatute={onOpenStatute} />
              </li>
            ))}
          </ul>
        </section>
      )}
      {p.citedCases.length > 0 && (
        <section aria-labelledby="pr-cases">
          <h3 id="pr-cases">참조판례</h3>
          <ul className="chips">
            {p.citedCases.map((cn) => (
              <li key={cn}>
                <button type="button" className="chip green" onClick={() => onOpenPrecedent(cn)}>
                  {cn}
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
      {p.citedBy.length > 0 && (
        <section aria-labelledby="pr-citedby">
          <h3 id="pr-citedby">이 판례를 인용한 판례</h3>
          <PrecedentRefs items={p.citedBy} onOpenPrecedent={onOpenPrecedent} />
        </section>
      )}
      {p.url && (
        <p>
          <a href={p.url} target="_blank" rel="noopener noreferrer" className="external">
            국가법령정보센터(law.go.kr)에서 판결문 보기
          </a>
        </p>
      )}
    </div>
  );
}
