import { STAGES } from '../messages';

export type StageKey = (typeof STAGES)[number]['stage'];
export type StageState = 'done' | 'active' | 'waiting' | 'skipped' | 'failed';

interface Props {
  states: Record<StageKey, StageState>;
}

const mark: Record<StageState, string> = { done: '✓', active: '…', waiting: '', skipped: '–', failed: '!' };
const said: Record<StageState, string> = {
  done: '완료',
  active: '진행 중',
  waiting: '대기',
  skipped: '건너뜀',
  failed: '실패',
};

/** The pipeline's stages as they finish: 법률 질문 확인 → 유사 상담 → 유사 판례 → 관련 조문 → 답변. */
export function Stages({ states }: Props) {
  return (
    <ol className="stages" aria-label="진행 단계">
      {STAGES.map(({ stage, label }) => (
        <li key={stage} className={`stage ${states[stage]}`} data-stage={stage} data-state={states[stage]}>
          <span className="dot" aria-hidden="true">
            {mark[states[stage]]}
          </span>
          <span>{label}</span>
          <span className="sr-only"> ({said[states[stage]]})</span>
        </li>
      ))}
    </ol>
  );
}
