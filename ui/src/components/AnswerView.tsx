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
    const why =
      c.inEvidence === false && c.statute
        ? 'AI가 근거로 받지 않은 조문을 인용했습니다. 답변과 맞는 조문인지 원문을 직접 확인하세요.'
        : 'LawBot의 조문 자료에서 찾지 못한 조문입니다. 원문을 직접 확인하세요.';
    return (
      <span className="cite unresolved" title={why}>
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

const sourceLabel: Record<string, string> = { qa: '상담 사례', statute: '조문', guide: '안내', generated: 'AI 작성' };

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
  const generated = answer.generator !== 'extractive';
  return (
    <div className="answer-text">
      {generated && (
        <p className="note generator">
          이 답변은 언어 모델({answer.generator})이 아래 조문·판례·상담 사례만을 근거로 작성했습니다. 인용 조문은 자동으로 확인했습니다.
        </p>
      )}
      {answer.fallback && (
        <p className="note generator" data-fallback={answer.fallback}>
          언어 모델의 답변이 기준에 맞지 않아 비슷한 사례와 조문으로 답변을 구성했습니다.
        </p>
      )}
      {answer.sentences.map((s, i) => (
        <p key={i} className={`sentence src-${s.source}${s.flagged ? ' flagged' : ''}`} title={s.flagged ? '확인되지 않은 조문을 인용한 문장입니다.' : undefined}>
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
