// The shapes of schema.graphqls that the app asks for (see queries in api.ts).

export type Stage = 'LEGAL_CHECK' | 'SIMILAR_QUESTIONS' | 'PRECEDENTS' | 'STATUTES' | 'ANSWER_DELTA' | 'ANSWER_RESET' | 'DONE' | 'ERROR';

// UNSURE: a chat-length message the filter cannot call; LawBot asks what happened.
export type LegalDecision = 'LEGAL' | 'NOT_LEGAL' | 'UNSURE';

export interface LegalCheck {
  isLegal: boolean;
  decision?: LegalDecision;
  score: number;
  explanation?: string | null;
}

export interface QA {
  question: string;
  answer: string;
  category?: string | null;
  title?: string | null;
  url?: string | null;
}

export interface QAMatch {
  score: number;
  qa: QA;
}

export interface CitationRef {
  id: string;
  resolved: boolean;
  inEvidence?: boolean;
  statute?: { id: string; title?: string | null } | null;
}

export interface PrecedentSummary {
  caseNumber: string;
  court: string;
  date: string;
  title: string;
  holding: string;
  url?: string | null;
  citedStatutes: CitationRef[];
}

export interface PrecedentMatch {
  score: number;
  precedent: PrecedentSummary;
}

export interface Reason {
  kind: string;
  ref: string;
  weight: number;
  text: string;
}

export interface StatuteSummary {
  id: string;
  law: string;
  article: string;
  title?: string | null;
  effectiveDate?: string | null;
  citedByCount: number;
}

export interface StatuteMatch {
  score: number;
  reasons: string[];
  reasonDetails: Reason[];
  statute: StatuteSummary;
}

export interface GraphNode {
  id: string;
  kind: 'question' | 'statute' | 'precedent' | string;
  label: string;
}

export interface GraphEdge {
  from: string;
  to: string;
  kind: string;
}

export interface CitationGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export interface AnswerSentence {
  text: string;
  source: string;
  ref?: string | null;
  flagged?: boolean;
}

export interface Answer {
  text: string;
  generator: string;
  fallback?: string | null;
  citations: CitationRef[];
  sentences: AnswerSentence[];
}

export interface AdviceEvent {
  stage: Stage;
  delta?: string | null;
  legal?: LegalCheck | null;
  similarQuestions?: QAMatch[] | null;
  precedents?: PrecedentMatch[] | null;
  statutes?: StatuteMatch[] | null;
  graph?: CitationGraph | null;
  answer?: Answer | null;
  error?: { code: string; message: string; retryAfter?: number | null } | null;
}

export interface PrecedentRef {
  caseNumber: string;
  court: string;
  date: string;
  title: string;
}

export interface StatuteDetail extends StatuteSummary {
  text: string;
  chapter?: string | null;
  url?: string | null;
  citedBy: PrecedentRef[];
}

export interface PrecedentDetail {
  caseNumber: string;
  court: string;
  courtLevel: string;
  caseType: string;
  date: string;
  title: string;
  holding: string;
  summary: string;
  disposition?: string | null;
  url?: string | null;
  citedStatutes: CitationRef[];
  citedStatutesRaw?: string | null;
  citedCases: string[];
  citedBy: PrecedentRef[];
}

/** An error the person reads: a stable code, and seconds to wait when the server said so. */
export interface AppError {
  code: string;
  message?: string;
  retryAfter?: number;
}
