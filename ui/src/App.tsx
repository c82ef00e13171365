import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import type { Api } from './api';
import { AnswerView } from './components/AnswerView';
import { CitationGraph } from './components/CitationGraph';
import { DetailPanel } from './components/DetailPanel';
import { QuestionForm } from './components/QuestionForm';
import { PrecedentList, SimilarQA, StatuteList } from './components/Results';
import { Stages, type StageKey, type StageState } from './components/Stages';
import { EXAMPLES, HELPLINE, errorText } from './messages';
import { parseLocation, routeURL, type Route } from './router';
import type { AdviceEvent, Answer, AppError, CitationGraph as Graph, LegalCheck, PrecedentMatch, QAMatch, StatuteMatch } from './types';

export interface Run {
  question: string;
  status: 'idle' | 'streaming' | 'done' | 'error';
  legal?: LegalCheck;
  similar?: QAMatch[];
  precedents?: PrecedentMatch[];
  statutes?: StatuteMatch[];
  graph?: Graph;
  streamed: string;
  answer?: Answer | null;
  error?: AppError;
}

type Action = { type: 'reset' } | { type: 'start'; question: string } | { type: 'event'; e: AdviceEvent } | { type: 'error'; error: AppError };

const idle: Run = { question: '', status: 'idle', streamed: '' };

export function reduce(run: Run, a: Action): Run {
  switch (a.type) {
    case 'reset':
      return idle;
    case 'start':
      return { question: a.question, status: 'streaming', streamed: '' };
    case 'error':
      return run.status === 'streaming' ? { ...run, status: 'error', error: a.error } : run;
    case 'event': {
      if (run.status !== 'streaming') return run;
      const e = a.e;
      switch (e.stage) {
        case 'LEGAL_CHECK':
          return { ...run, legal: e.legal ?? run.legal };
        case 'SIMILAR_QUESTIONS':
          return { ...run, similar: e.similarQuestions ?? [] };
        case 'PRECEDENTS':
          return { ...run, precedents: e.precedents ?? [] };
        case 'STATUTES':
          return { ...run, statutes: e.statutes ?? [], graph: e.graph ?? run.graph };
        case 'ANSWER_DELTA':
          return { ...run, streamed: run.streamed + (e.delta ?? '') };
        case 'ANSWER_RESET':
          return { ...run, streamed: '' }; // the generated text is withdrawn; the answer replacing it follows
        case 'DONE':
          return { ...run, status: 'done', legal: e.legal ?? run.legal, answer: e.answer ?? null };
        case 'ERROR':
          return { ...run, status: 'error', error: { code: e.error?.code ?? 'INTERNAL', message: e.error?.message, retryAfter: e.error?.retryAfter ?? undefined } };
      }
    }
  }
  return run;
}

export function stageStates(run: Run): Record<StageKey, StageState> {
  const nonLegal = run.legal?.isLegal === false;
  const done: Record<StageKey, boolean> = {
    LEGAL_CHECK: !!run.legal,
    SIMILAR_QUESTIONS: !!run.similar,
    PRECEDENTS: !!run.precedents,
    STATUTES: !!run.statutes,
    ANSWER: run.status === 'done' && !nonLegal,
  };
  const out = {} as Record<StageKey, StageState>;
  let activeGiven = false;
  for (const k of Object.keys(done) as StageKey[]) {
    if (done[k]) out[k] = 'done';
    else if (nonLegal || (run.status === 'done' && k !== 'ANSWER')) out[k] = 'skipped';
    else if (!activeGiven && run.status === 'streaming') {
      out[k] = 'active';
      activeGiven = true;
    } else if (!activeGiven && run.status === 'error') {
      out[k] = 'failed';
      activeGiven = true;
    } else out[k] = 'waiting';
  }
  if (nonLegal) out.ANSWER = 'skipped';
  return out;
}

function Section({ id, title, children, pending }: { id: string; title: string; children: React.ReactNode; pending?: boolean }) {
  return (
    <section className="result" aria-labelledby={id} aria-busy={pending || undefined}>
      <h2 id={id}>{title}</h2>
      {pending ? <p className="muted pending">찾는 중…</p> : children}
    </section>
  );
}

export function App({ api }: { api: Api }) {
  const [run, dispatch] = useReducer(reduce, idle);
  const [draft, setDraft] = useState('');
  const [route, setRoute] = useState<Route>(() => parseLocation(window.location));
  const cancel = useRef<(() => void) | null>(null);
  const runQuestion = useRef('');

  const ask = useCallback(
    (q: string, push = true) => {
      cancel.current?.();
      runQuestion.current = q;
      dispatch({ type: 'start', question: q });
      if (push) {
        const r = { q, statute: null, precedent: null };
        window.history.pushState(null, '', routeURL(r));
        setRoute(r);
      }
      cancel.current = api.streamAdvice(
        q,
        (e) => dispatch({ type: 'event', e }),
        (error) => dispatch({ type: 'error', error }),
      );
    },
    [api],
  );

  // A shared URL (/?q=…) asks at once; back and forward follow the history.
  useEffect(() => {
    const first = parseLocation(window.location);
    if (first.q) {
      setDraft(first.q);
      ask(first.q, false);
    }
    const onPop = () => {
      const r = parseLocation(window.location);
      setRoute(r);
      if (r.q && r.q !== runQuestion.current) {
        setDraft(r.q);
        ask(r.q, false);
      }
    };
    window.addEventListener('popstate', onPop);
    return () => {
      window.removeEventListener('popstate', onPop);
      cancel.current?.();
    };
  }, [ask]);

  const go = useCallback((r: Route) => {
    window.history.pushState(null, '', routeURL(r));
    setRoute(r);
  }, []);
  const q = runQuestion.current || route.q;
  const openStatute = useCallback((id: string) => go({ q: q || null, statute: id, precedent: null }), [go, q]);
  const openPrecedent = useCallback((cn: string) => go({ q: q || null, statute: null, precedent: cn }), [go, q]);
  const closePanel = useCallback(() => go({ q: q || null, statute: null, precedent: null }), [go, q]);

  const states = stageStates(run);
  const streaming = run.status === 'streaming';
  const nonLegal = run.legal?.isLegal === false;
  const unsure = run.legal?.decision === 'UNSURE';
  const target = route.statute ? ({ kind: 'statute', id: route.statute } as const) : route.precedent ? ({ kind: 'precedent', id: route.precedent } as const) : null;
  const match = route.statute ? run.statutes?.find((m) => m.statute.id === route.statute) : undefined;

  return (
    <div className={target ? 'layout with-panel' : 'layout'}>
      <a className="skip" href="#main">
        본문으로 건너뛰기
      </a>
      <header className="top">
        <a href="/" className="brand" onClick={(e) => { e.preventDefault(); cancel.current?.(); runQuestion.current = ''; setDraft(''); dispatch({ type: 'reset' }); go({ q: null, statute: null, precedent: null }); }}>
          <span className="logo" aria-hidden="true">⚖</span> LawBot
        </a>
        <span className="tagline">법률 문제, 어디서부터 알아봐야 할지 모를 때</span>
      </header>
      <main id="main">
        <QuestionForm value={draft} busy={streaming} onChange={setDraft} onSubmit={(question) => ask(question)} />
        <p className="sr-only" aria-live="polite">
          {streaming ? '답변을 찾고 있습니다.' : run.status === 'done' ? (unsure ? '어떤 일이 있었는지 조금 더 알려 주세요.' : nonLegal ? '법률 질문이 아닌 것 같습니다.' : '답변이 준비되었습니다.') : ''}
        </p>
        {run.status !== 'idle' && run.question && (
          <div className="run">
            <p className="asked">
              <span className="muted">질문</span> {run.question}
            </p>
            <Stages states={states} />
            {run.status === 'error' && run.error && (
              <div className="error" role="alert">
                <p className="error-title">{errorText(run.error).title}</p>
                <p>{errorText(run.error).detail}</p>
                <p className="muted small">
                  오류 코드: {run.error.code}. 급하다면 {HELPLINE}
                </p>
                <button type="button" className="primary" onClick={() => ask(run.question, false)}>
                  다시 시도
                </button>
              </div>
            )}
            {unsure && (
              <div className="nonlegal unsure" role="status">
                <h2>조금 더 알려 주세요</h2>
                <p>{run.legal?.explanation || '법률 문제인지 확실하지 않아요. 어떤 일이 있었는지 조금 더 알려 주세요.'}</p>
                <button
                  type="button"
                  className="primary"
                  onClick={() => {
                    setDraft(run.question + ' ');
                    document.querySelector<HTMLTextAreaElement>('textarea[name="q"]')?.focus();
                  }}
                >
                  질문에 이어서 쓰기
                </button>
              </div>
            )}
            {nonLegal && !unsure && (
              <div className="nonlegal" role="status">
                <h2>법률 문제에 대한 질문이 아닌 것 같아요</h2>
                <p>{run.legal?.explanation || 'LawBot은 법률 문제를 도와 드립니다. 어떤 일이 있었는지 적어 주시면 비슷한 상담 사례, 판례, 살펴볼 법 조문을 찾아 드립니다.'}</p>
                <p>예를 들면 이렇게 물어보세요:</p>
                <ul>
                  {EXAMPLES.slice(0, 2).map((ex) => (
                    <li key={ex}>
                      <button type="button" className="example" onClick={() => { setDraft(ex); ask(ex); }}>
                        {ex}
                      </button>
                    </li>
                  ))}
                </ul>
              </div>
            )}
            {!nonLegal && run.status !== 'error' && (
              <>
                <Section id="sec-answer" title="답변" pending={streaming && !run.streamed}>
                  <AnswerView streamed={run.streamed} answer={run.answer} streaming={streaming} onOpenStatute={openStatute} />
                </Section>
                <Section id="sec-statutes" title="살펴볼 조문" pending={!run.statutes}>
                  <StatuteList items={run.statutes ?? []} onOpenStatute={openStatute} />
                </Section>
                <Section id="sec-graph" title="조문과 판례의 인용 관계" pending={!run.graph}>
                  {run.graph && <CitationGraph graph={run.graph} onOpenStatute={openStatute} onOpenPrecedent={openPrecedent} />}
                </Section>
                <Section id="sec-qa" title="비슷한 상담 사례" pending={!run.similar}>
                  <SimilarQA items={run.similar ?? []} />
                </Section>
                <Section id="sec-prec" title="비슷한 판례" pending={!run.precedents}>
                  <PrecedentList items={run.precedents ?? []} onOpenPrecedent={openPrecedent} onOpenStatute={openStatute} />
                </Section>
              </>
            )}
          </div>
        )}
      </main>
      {target && (
        <DetailPanel target={target} api={api} match={match} onClose={closePanel} onOpenStatute={openStatute} onOpenPrecedent={openPrecedent} />
      )}
      <footer className="foot">
        <p>
          LawBot은 법률 정보를 찾아 보여 줄 뿐, 변호사의 법률 자문을 대신하지 않습니다. 급하거나 중요한 일이라면 {HELPLINE}에 문의하세요.
        </p>
        <p className="small">
          <a href="/graphiql">개발자용 GraphQL API (GraphiQL)</a>
        </p>
      </footer>
    </div>
  );
}
