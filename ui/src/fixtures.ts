// Small hand-written advice for the component tests (not corpus data).
import type { AdviceEvent } from './types';

export const legalEvents: AdviceEvent[] = [
  { stage: 'LEGAL_CHECK', legal: { isLegal: true, score: 0.97, explanation: null } },
  {
    stage: 'SIMILAR_QUESTIONS',
    similarQuestions: [{ score: 1, qa: { question: '보증금을 못 받았어요', answer: '임차권등기명령을 신청할 수 있습니다.\n내용증명을 보내 보세요.', category: '부동산 > 임대차', url: null } }],
  },
  {
    stage: 'PRECEDENTS',
    precedents: [
      {
        score: 1,
        precedent: {
          caseNumber: '2099다1',
          court: '대법원',
          date: '2099-01-02',
          title: '보증금반환',
          holding: '임대차 종료 후 보증금 반환 의무',
          citedStatutes: [
            { id: '시험법 제1조', resolved: true },
            { id: '없는법 제7조', resolved: false },
          ],
        },
      },
    ],
  },
  {
    stage: 'STATUTES',
    statutes: [
      {
        score: 1,
        reasons: ['유사 판례 2099다1에서 인용'],
        reasonDetails: [{ kind: 'precedent', ref: '2099다1', weight: 0.8, text: '유사 판례 2099다1에서 인용' }],
        statute: { id: '시험법 제1조', law: '시험법', article: '제1조', title: '목적', effectiveDate: '2099-01-01', citedByCount: 1 },
      },
    ],
    graph: {
      nodes: [
        { id: 'question', kind: 'question', label: '질문' },
        { id: '시험법 제1조', kind: 'statute', label: '시험법 제1조 목적' },
        { id: 'precedent:2099다1', kind: 'precedent', label: '2099다1' },
      ],
      edges: [
        { from: 'question', to: '시험법 제1조', kind: 'suggests' },
        { from: 'precedent:2099다1', to: '시험법 제1조', kind: 'cites' },
      ],
    },
  },
  { stage: 'ANSWER_DELTA', delta: '「시험법」 제1조를 보세요.' },
  { stage: 'ANSWER_DELTA', delta: ' 없는법 제7조도 있습니다.' },
  {
    stage: 'DONE',
    legal: { isLegal: true, score: 0.97 },
    answer: {
      text: '「시험법」 제1조를 보세요. 없는법 제7조도 있습니다.',
      generator: 'extractive',
      citations: [
        { id: '시험법 제1조', resolved: true, statute: { id: '시험법 제1조', title: '목적' } },
        { id: '없는법 제7조', resolved: false, statute: null },
      ],
      sentences: [
        { text: '「시험법」 제1조를 보세요.', source: 'statute', ref: '시험법 제1조' },
        { text: '없는법 제7조도 있습니다.', source: 'guide', ref: null },
      ],
    },
  },
];
