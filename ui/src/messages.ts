// What a person reads, in Korean first. Error codes are the server's (README: errors).
import type { AppError } from './types';

export const STAGES = [
  { stage: 'LEGAL_CHECK', label: '법률 질문 확인' },
  { stage: 'SIMILAR_QUESTIONS', label: '유사 상담' },
  { stage: 'PRECEDENTS', label: '유사 판례' },
  { stage: 'STATUTES', label: '관련 조문' },
  { stage: 'ANSWER', label: '답변' },
] as const;

export const EXAMPLES = [
  '전세 계약이 끝났는데 집주인이 보증금을 안 돌려줘요. 어떻게 해야 하나요?',
  '회사가 석 달째 월급을 주지 않아요. 어디에 신고할 수 있나요?',
  '중고거래로 돈을 보냈는데 물건이 오지 않고 판매자와 연락이 끊겼어요.',
  '부모님이 돌아가셨는데 빚이 재산보다 많은 것 같아요. 상속을 포기할 수 있나요?',
];

export const MAX_QUESTION = 2000;

export const HELPLINE = '대한법률구조공단 ☎ 132 (무료 법률 상담)';

/** When to ask again: the server's Retry-After when it gave one. */
function retryDetail(e: AppError): string {
  return e.retryAfter ? `${e.retryAfter}초 뒤에 다시 시도해 주세요.` : '몇 초 뒤에 다시 시도해 주세요.';
}

export function errorText(e: AppError): { title: string; detail: string } {
  switch (e.code) {
    case 'RATE_LIMITED':
      return {
        title: '요청이 너무 많아 잠시 쉬어야 합니다.',
        detail: retryDetail(e),
      };
    case 'OVERLOADED':
    case 'TOO_MANY_OPERATIONS':
      return {
        title: '지금 질문이 많아 LawBot이 바로 답하지 못했습니다.',
        detail: retryDetail(e),
      };
    case 'NETWORK':
      return {
        title: 'LawBot 서버에 연결할 수 없습니다.',
        detail: '인터넷 연결을 확인하거나 잠시 뒤 다시 시도해 주세요.',
      };
    case 'UNAVAILABLE':
      return {
        title: 'LawBot 서버가 아직 준비 중이거나 응답하지 않습니다.',
        detail: '서버가 자료를 불러오는 중일 수 있습니다. 잠시 뒤 다시 시도해 주세요.',
      };
    case 'TIMEOUT':
      return {
        title: '답변을 찾는 데 시간이 너무 오래 걸렸습니다.',
        detail: '다시 시도하거나, 질문을 조금 짧게 줄여 보세요.',
      };
    case 'EMPTY_QUESTION':
      return { title: '질문이 비어 있습니다.', detail: '있었던 일을 한두 문장으로 적어 주세요.' };
    case 'QUESTION_TOO_LONG':
      return { title: `질문이 너무 깁니다 (최대 ${MAX_QUESTION.toLocaleString()}자).`, detail: '핵심만 줄여서 다시 물어봐 주세요.' };
    case 'FORBIDDEN_ORIGIN':
      return { title: '이 주소에서는 LawBot에 연결할 수 없습니다.', detail: 'LawBot 서버의 주소로 직접 접속해 주세요.' };
    default:
      return {
        title: '서버에 문제가 생겨 답변하지 못했습니다.',
        detail: '잠시 뒤 다시 시도해 주세요. 문제가 계속되면 관리자에게 알려 주세요.',
      };
  }
}
