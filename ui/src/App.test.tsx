import { act, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { App } from './App';
import type { Api } from './api';
import { legalEvents } from './fixtures';
import type { AdviceEvent, AppError, StatuteDetail } from './types';

vi.mock('cytoscape', () => ({
  default: () => ({ on: () => {}, destroy: () => {} }),
}));

/** A fake server: the test pushes events and errors into the open stream. */
function fakeApi() {
  const calls: string[] = [];
  let push: ((e: AdviceEvent) => void) | undefined;
  let fail: ((e: AppError) => void) | undefined;
  const statute: StatuteDetail = {
    id: '시험법 제1조', law: '시험법', article: '제1조', title: '목적', text: '이 법은 시험을 목적으로 한다.',
    chapter: '제1장 총칙', effectiveDate: '2099-01-01', url: 'https://www.law.go.kr/법령/시험법', citedByCount: 1,
    citedBy: [{ caseNumber: '2099다1', court: '대법원', date: '2099-01-02', title: '보증금반환' }],
  };
  const api: Api = {
    streamAdvice(q, onEvent, onError) {
      calls.push(q);
      push = onEvent;
      fail = onError;
      return () => {};
    },
    statute: vi.fn(async (id: string) => (id === statute.id ? statute : null)),
    precedent: vi.fn(async () => null),
  };
  return {
    api,
    calls,
    emit: (...es: AdviceEvent[]) => act(() => es.forEach((e) => push!(e))),
    fail: (e: AppError) => act(() => fail!(e)),
  };
}

const stateOf = (stage: string) => document.querySelector(`.stage[data-stage="${stage}"]`)?.getAttribute('data-state');

beforeEach(() => window.history.replaceState(null, '', '/'));

test('the stages light up as the stream comes in, then the answer links its citations', async () => {
  const f = fakeApi();
  render(<App api={f.api} />);
  await userEvent.type(screen.getByLabelText('어떤 일이 있었나요?'), '보증금을 못 받았어요');
  await userEvent.click(screen.getByRole('button', { name: '물어보기' }));
  expect(f.calls).toEqual(['보증금을 못 받았어요']);
  expect(window.location.search).toBe('?q=' + encodeURIComponent('보증금을 못 받았어요'));
  expect(stateOf('LEGAL_CHECK')).toBe('active');

  f.emit(legalEvents[0], legalEvents[1]);
  expect(stateOf('LEGAL_CHECK')).toBe('done');
  expect(stateOf('SIMILAR_QUESTIONS')).toBe('done');
  expect(stateOf('PRECEDENTS')).toBe('active');
  expect(screen.getByText('보증금을 못 받았어요', { selector: '.qa-q' })).toBeInTheDocument();

  f.emit(legalEvents[2], legalEvents[3], legalEvents[4]);
  expect(stateOf('STATUTES')).toBe('done');
  expect(stateOf('ANSWER')).toBe('active');
  expect(screen.getByText(/「시험법」 제1조를 보세요/)).toBeInTheDocument();
  // 참조조문 chips: the resolved one opens, the unresolved one is marked.
  expect(screen.getByRole('button', { name: '시험법 제1조 조문 열기' })).toBeInTheDocument();
  expect(screen.getByText('없는법 제7조', { selector: '.chip.unresolved' })).toHaveTextContent('원문 없음');

  f.emit(legalEvents[5], legalEvents[6]);
  expect(stateOf('ANSWER')).toBe('done');
  const answer = document.querySelector('.answer-text') as HTMLElement;
  const link = within(answer).getAllByRole('link', { name: '「시험법」 제1조' })[0];
  expect(link).toHaveAttribute('href', '/statute/' + encodeURIComponent('시험법 제1조'));
  expect(within(answer).getAllByText('확인 안 됨').length).toBeGreaterThan(0);

  // The citation opens the statute's panel, with why it was suggested and law.go.kr.
  await userEvent.click(link);
  const panel = await screen.findByRole('dialog');
  expect(await within(panel).findByText('이 법은 시험을 목적으로 한다.')).toBeInTheDocument();
  expect(within(panel).getByText('2099-01-01')).toBeInTheDocument();
  expect(within(panel).getByText(/유사 판례 2099다1에서 인용/)).toBeInTheDocument();
  expect(within(panel).getByRole('link', { name: /law\.go\.kr/ })).toHaveAttribute('rel', 'noopener noreferrer');
  expect(decodeURIComponent(window.location.pathname)).toBe('/statute/시험법 제1조');
  await userEvent.keyboard('{Escape}');
  expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
  expect(window.location.pathname).toBe('/');
});

test('a message that is not a legal question gets a friendly explanation, not an error', async () => {
  const f = fakeApi();
  render(<App api={f.api} />);
  await userEvent.type(screen.getByLabelText('어떤 일이 있었나요?'), '오늘 점심 뭐 먹지');
  await userEvent.click(screen.getByRole('button', { name: '물어보기' }));
  f.emit(
    { stage: 'LEGAL_CHECK', legal: { isLegal: false, score: 0.02, explanation: 'LawBot은 법률 문제를 돕습니다. 예: 월급을 못 받았어요.' } },
    { stage: 'DONE', legal: { isLegal: false, score: 0.02, explanation: 'LawBot은 법률 문제를 돕습니다. 예: 월급을 못 받았어요.' }, answer: null },
  );
  expect(screen.getByRole('heading', { name: '법률 문제에 대한 질문이 아닌 것 같아요' })).toBeInTheDocument();
  expect(screen.getByText('LawBot은 법률 문제를 돕습니다. 예: 월급을 못 받았어요.')).toBeInTheDocument();
  expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  expect(stateOf('SIMILAR_QUESTIONS')).toBe('skipped');
  expect(stateOf('ANSWER')).toBe('skipped');
  // An example asks a legal question instead.
  const example = within(document.querySelector('.nonlegal') as HTMLElement).getAllByRole('button')[0];
  await userEvent.click(example);
  expect(f.calls).toHaveLength(2);
});

test('a short message the filter is unsure of gets one clarifying question, and the person adds to it', async () => {
  const f = fakeApi();
  render(<App api={f.api} />);
  await userEvent.type(screen.getByLabelText('어떤 일이 있었나요?'), '계약서 썼어요');
  await userEvent.click(screen.getByRole('button', { name: '물어보기' }));
  const clarify = '법률 문제인지 확실하지 않아요. 어떤 일이 있었는지 조금 더 알려 주세요.';
  f.emit(
    { stage: 'LEGAL_CHECK', legal: { isLegal: false, decision: 'UNSURE', score: 0.3, explanation: clarify } },
    { stage: 'DONE', legal: { isLegal: false, decision: 'UNSURE', score: 0.3, explanation: clarify }, answer: null },
  );
  expect(screen.getByRole('heading', { name: '조금 더 알려 주세요' })).toBeInTheDocument();
  expect(screen.getByText(clarify)).toBeInTheDocument();
  // Not the refusal: no "not a legal question" heading, no error.
  expect(screen.queryByRole('heading', { name: '법률 문제에 대한 질문이 아닌 것 같아요' })).not.toBeInTheDocument();
  expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  await userEvent.click(screen.getByRole('button', { name: '질문에 이어서 쓰기' }));
  const box = screen.getByLabelText('어떤 일이 있었나요?');
  expect(box).toHaveValue('계약서 썼어요 ');
  expect(box).toHaveFocus();
});

test.each([
  [{ code: 'RATE_LIMITED', retryAfter: 3 }, '요청이 너무 많아', '3초 뒤에'],
  [{ code: 'OVERLOADED', retryAfter: 1 }, '지금 질문이 많아', '1초 뒤에'],
  [{ code: 'NETWORK' }, 'LawBot 서버에 연결할 수 없습니다.', '인터넷 연결'],
  [{ code: 'UNAVAILABLE' }, '준비 중이거나 응답하지 않습니다', '잠시 뒤'],
])('error %o is shown plainly with a retry', async (error, title, detail) => {
  const f = fakeApi();
  window.history.replaceState(null, '', '/?q=' + encodeURIComponent('월급을 못 받았어요'));
  render(<App api={f.api} />);
  f.fail(error);
  const alert = screen.getByRole('alert');
  expect(alert).toHaveTextContent(title);
  expect(alert).toHaveTextContent(detail);
  expect(alert).toHaveTextContent('132');
  await userEvent.click(within(alert).getByRole('button', { name: '다시 시도' }));
  expect(f.calls).toEqual(['월급을 못 받았어요', '월급을 못 받았어요']);
  expect(screen.queryByRole('alert')).not.toBeInTheDocument();
});

test('an ERROR event ends the stream with its code', () => {
  const f = fakeApi();
  window.history.replaceState(null, '', '/?q=x');
  render(<App api={f.api} />);
  f.emit(legalEvents[0], { stage: 'ERROR', error: { code: 'TIMEOUT', message: 'stage timeout' } });
  expect(screen.getByRole('alert')).toHaveTextContent('시간이 너무 오래');
  expect(stateOf('LEGAL_CHECK')).toBe('done');
  expect(stateOf('SIMILAR_QUESTIONS')).toBe('failed');
});

test('a shared ?q= link fills the box and asks at once', () => {
  const f = fakeApi();
  window.history.replaceState(null, '', '/?q=' + encodeURIComponent('해고 예고 없이 잘렸어요'));
  render(<App api={f.api} />);
  expect(screen.getByLabelText('어떤 일이 있었나요?')).toHaveValue('해고 예고 없이 잘렸어요');
  expect(f.calls).toEqual(['해고 예고 없이 잘렸어요']);
});

test('/statute/<id> opens the panel directly; an unknown one says so', async () => {
  const f = fakeApi();
  window.history.replaceState(null, '', '/statute/' + encodeURIComponent('시험법 제1조'));
  const { unmount } = render(<App api={f.api} />);
  expect(await screen.findByText('이 법은 시험을 목적으로 한다.')).toBeInTheDocument();
  expect(f.calls).toEqual([]);
  unmount();
  window.history.replaceState(null, '', '/statute/' + encodeURIComponent('시험법 제99조'));
  render(<App api={f.api} />);
  expect(await screen.findByText(/LawBot의 자료에 「시험법 제99조」 조문이 없습니다/)).toBeInTheDocument();
});

test('the question box counts characters and refuses an over-long question', async () => {
  const f = fakeApi();
  render(<App api={f.api} />);
  const box = screen.getByLabelText('어떤 일이 있었나요?');
  await userEvent.click(box);
  await userEvent.paste('가'.repeat(2001));
  expect(box).toHaveAttribute('aria-invalid', 'true');
  expect(screen.getByRole('button', { name: '물어보기' })).toBeDisabled();
  expect(screen.getByText(/너무 깁니다/)).toBeInTheDocument();
});

test('a generated answer given up mid-stream is withdrawn; a generated answer marks the sentence citing an unchecked article', async () => {
  const f = fakeApi();
  render(<App api={f.api} />);
  await userEvent.type(screen.getByLabelText('어떤 일이 있었나요?'), '보증금을 못 받았어요');
  await userEvent.click(screen.getByRole('button', { name: '물어보기' }));
  f.emit(legalEvents[0], legalEvents[1], legalEvents[2], legalEvents[3]);
  f.emit({ stage: 'ANSWER_DELTA', delta: '법원에 신청하세요. 법원에 신청하세요.' });
  expect(screen.getByText(/법원에 신청하세요/)).toBeInTheDocument();
  f.emit({ stage: 'ANSWER_RESET', delta: 'the model repeated itself' });
  expect(screen.queryByText(/법원에 신청하세요/)).not.toBeInTheDocument();
  f.emit({ stage: 'ANSWER_DELTA', delta: '「시험법」 제1조를 보세요.' });
  expect(screen.getByText(/「시험법」 제1조를 보세요/)).toBeInTheDocument();
  f.emit({
    stage: 'DONE',
    legal: { isLegal: true, score: 0.97 },
    answer: {
      text: '「시험법」 제1조에 따라 신청하세요. 「시험법」 제2조도 보세요.',
      generator: 'gemma3-270m-tf@test',
      fallback: null,
      citations: [
        { id: '시험법 제1조', resolved: true, inEvidence: true, statute: { id: '시험법 제1조', title: '목적' } },
        { id: '시험법 제2조', resolved: false, inEvidence: false, statute: { id: '시험법 제2조', title: '정의' } },
      ],
      sentences: [
        { text: '「시험법」 제1조에 따라 신청하세요.', source: 'generated', ref: null, flagged: false },
        { text: '「시험법」 제2조도 보세요.', source: 'generated', ref: null, flagged: true },
      ],
    },
  });
  const answer = document.querySelector('.answer-text') as HTMLElement;
  expect(within(answer).getByText(/언어 모델\(gemma3-270m-tf@test\)/)).toBeInTheDocument();
  const flagged = answer.querySelectorAll('.sentence.flagged');
  expect(flagged).toHaveLength(1);
  expect(flagged[0]).toHaveTextContent(/「시험법」 제2조.*도 보세요/);
  expect(within(flagged[0] as HTMLElement).getByText('확인 안 됨').closest('.cite')).toHaveAttribute('title', expect.stringMatching(/근거로 받지 않은/));
});
