import { linkCitations } from '../citations';
import type { Answer, CitationRef } from '../types';

interface Props {
  streamed: string;
  answer?: Answer | null;
  streaming: boolean;
  onOpenStatute(id: string): void;
}

function Cite({ c, text, onOpenStatute }: { c: CitationRef; text: string; onOpenStatute(id: string): void }) {
  if (!c.resolved) {
    return (
      <span className="cite unresolved" title="LawBot의 조문 자료에서 찾지 못한 조문입니다. 원문을 직접 확인하세요.">
        {text}
        <span className="badge warn">확인 안 됨</span>
      </span>
    );
  }
  return (
    <a
      className="cite"
      href={`/statute/${encodeURIComponent(c.id)}`}
      onClick={(e) => {
        e.preventDefault();
        onOpenStatute(c.id);
      }}
    >
      {text}
    </a>
  );
}

const sourceLabel: Record<string, string> = { qa: '상담 사례', statute: '조문', guide: '안내' };

/** The answer: streamed text while it comes, then sentence by sentence with citations linked. */
export function AnswerView({ streamed, answer, streaming, onOpenStatute }: Props) {
  if (!answer) {
    return (
      <div className="answer-text" aria-busy={streaming}>
        <p>
          {streamed}
          {streaming && <span className="caret" aria-hidden="true" />}
        </p>
      </div>
    );
  }
  const unresolved = answer.citations.filter((c) => !c.resolved);
  return (
    <div className="answer-text">
      {answer.sentences.map((s, i) => (
        <p key={i} className={`sentence src-${s.source}`}>
          {linkCitations(s.text, answer.citations).map((p, j) =>
            p.citation ? <Cite key={j} c={p.citation} text={p.text} onOpenStatute={onOpenStatute} /> : <span key={j}>{p.text}</span>,
          )}
          {s.source !== 'guide' && (
            <span className="source" title={s.ref ?? undefined}>
              {sourceLabel[s.source] ?? s.source}
            </span>
          )}
        </p>
      ))}
      {answer.citations.length > 0 && (
        <div className="answer-cites">
          <h3>답변이 인용한 조문</h3>
          <ul className="chips">
            {answer.citations.map((c) => (
              <li key={c.id}>
                {c.resolved ? (
                  <Cite c={c} text={c.statute?.title ? `${c.id} (${c.statute.title})` : c.id} onOpenStatute={onOpenStatute} />
                ) : (
                  <Cite c={c} text={c.id} onOpenStatute={onOpenStatute} />
                )}
              </li>
            ))}
          </ul>
          {unresolved.length > 0 && (
            <p className="note warn-text">
              「확인 안 됨」 표시된 조문은 LawBot의 자료에 없어 내용을 확인하지 못했습니다. 법제처 국가법령정보센터에서 직접 확인하세요.
            </p>
          )}
        </div>
      )}
    </div>
  );
}
