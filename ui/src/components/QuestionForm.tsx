import { useId, type FormEvent, type KeyboardEvent } from 'react';
import { EXAMPLES, MAX_QUESTION } from '../messages';

interface Props {
  value: string;
  busy: boolean;
  onChange(v: string): void;
  onSubmit(q: string): void;
}

export function QuestionForm({ value, busy, onChange, onSubmit }: Props) {
  const id = useId();
  const tooLong = value.trim().length > MAX_QUESTION;
  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    if (!value.trim() || tooLong || busy) return;
    onSubmit(value.trim());
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) submit();
  };
  return (
    <form className="ask" onSubmit={submit} role="search" aria-label="법률 질문">
      <label htmlFor={`${id}-q`} className="ask-label">
        어떤 일이 있었나요?
      </label>
      <p id={`${id}-hint`} className="hint">
        있었던 일을 평소 말하듯 적어 주세요. 이름·주민등록번호·전화번호 같은 개인정보는 적지 마세요.
      </p>
      <textarea
        id={`${id}-q`}
        name="q"
        rows={4}
        value={value}
        aria-describedby={`${id}-hint ${id}-count`}
        aria-invalid={tooLong || undefined}
        placeholder="예: 전세 계약이 끝났는데 집주인이 보증금을 안 돌려줘요."
        onChange={(e) => onChange(e.target.value)}
        onKeyDown={onKeyDown}
      />
      <div className="ask-row">
        <span id={`${id}-count`} className={tooLong ? 'count over' : 'count'}>
          {value.trim().length.toLocaleString()} / {MAX_QUESTION.toLocaleString()}자
          {tooLong && ' — 너무 깁니다'}
        </span>
        <button type="submit" className="primary" disabled={busy || !value.trim() || tooLong}>
          {busy ? '찾는 중…' : '물어보기'}
        </button>
      </div>
      <fieldset className="examples">
        <legend>이런 일도 물어볼 수 있어요</legend>
        <ul>
          {EXAMPLES.map((ex) => (
            <li key={ex}>
              <button
                type="button"
                className="example"
                disabled={busy}
                onClick={() => {
                  onChange(ex);
                  onSubmit(ex);
                }}
              >
                {ex}
              </button>
            </li>
          ))}
        </ul>
      </fieldset>
    </form>
  );
}
