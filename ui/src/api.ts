// The app's one door to the server: the adviceStream subscription over graphql-transport-ws
// (graphql-ws client) and look-ups over POST, both at /graphql. Errors come out as AppError
// with the server's stable code, or NETWORK when the server cannot be reached.
import { createClient, type Client } from 'graphql-ws';
import type { AdviceEvent, AppError, PrecedentDetail, StatuteDetail } from './types';

export interface Api {
  /** Starts the stream; returns a function that cancels it. */
  streamAdvice(question: string, onEvent: (e: AdviceEvent) => void, onError: (e: AppError) => void): () => void;
  statute(id: string): Promise<StatuteDetail | null>;
  precedent(caseNumber: string): Promise<PrecedentDetail | null>;
}

export const ADVICE_STREAM = /* GraphQL */ `
subscription AdviceStream($question: String!) {
  adviceStream(question: $question) {
    stage
    delta
    legal { isLegal decision score explanation }
    similarQuestions { score qa { question answer category title url } }
    precedents { score precedent { caseNumber court date title holding url citedStatutes { id resolved } } }
    statutes {
      score reasons
      reasonDetails { kind ref weight text }
      statute { id law article title effectiveDate citedByCount }
    }
    graph { nodes { id kind label } edges { from to kind } }
    answer { text generator fallback citations { id resolved inEvidence statute { id title } } sentences { text source ref flagged } }
    error { code message retryAfter }
  }
}`;

export const STATUTE_QUERY = /* GraphQL */ `
query Statute($id: ID!) {
  statute(id: $id) {
    id law article title text chapter effectiveDate url citedByCount
    citedBy(first: 10) { caseNumber court date title }
  }
}`;

export const PRECEDENT_QUERY = /* GraphQL */ `
query Precedent($caseNumber: String!) {
  precedent(caseNumber: $caseNumber) {
    caseNumber court courtLevel caseType date title holding summary disposition url
    citedStatutes { id resolved statute { id title } }
    citedStatutesRaw citedCases
    citedBy(first: 10) { caseNumber court date title }
  }
}`;

/** The websocket URL of an endpoint path on this page's server. */
export function wsURL(endpoint: string): string {
  const u = new URL(endpoint, window.location.href);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.toString();
}

interface GraphQLResponse<T> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string; retryAfter?: number } }[];
}

function retryAfter(res: Response): number | undefined {
  const s = Number(res.headers.get('Retry-After'));
  return Number.isFinite(s) && s > 0 ? s : undefined;
}

async function post<T>(endpoint: string, query: string, variables: Record<string, unknown>): Promise<T> {
  let res: Response;
  try {
    res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw { code: 'NETWORK' } satisfies AppError;
  }
  let body: GraphQLResponse<T> | undefined;
  try {
    body = (await res.json()) as GraphQLResponse<T>;
  } catch {
    body = undefined;
  }
  const e = body?.errors?.[0];
  if (res.status === 429) throw { code: 'RATE_LIMITED', retryAfter: retryAfter(res) } satisfies AppError;
  if (e) throw { code: e.extensions?.code ?? 'INTERNAL', message: e.message, retryAfter: e.extensions?.retryAfter } satisfies AppError;
  if (!res.ok || !body?.data) throw { code: res.status === 503 ? 'UNAVAILABLE' : 'INTERNAL' } satisfies AppError;
  return body.data;
}

/**
 * Why a websocket failed: the browser does not show the status of a refused upgrade, so a
 * cheap POST asks the same server (429 → RATE_LIMITED with Retry-After; no answer → NETWORK).
 */
export async function diagnose(endpoint: string): Promise<AppError> {
  try {
    await post<{ __typename: string }>(endpoint, '{ __typename }', {});
    return { code: 'UNAVAILABLE' };
  } catch (e) {
    return e as AppError;
  }
}

function isGraphQLErrors(x: unknown): x is { message: string; extensions?: { code?: string; retryAfter?: number } }[] {
  return Array.isArray(x);
}

/** The real server at endpoint (default /graphql on this page's host). */
export function createApi(endpoint = '/graphql'): Api {
  let client: Client | undefined;
  const ws = () =>
    (client ??= createClient({
      url: wsURL(endpoint),
      lazy: true,
      lazyCloseTimeout: 30_000,
      keepAlive: 15_000,
      retryAttempts: 0, // the person gets a clear message and a retry button instead
    }));
  return {
    streamAdvice(question, onEvent, onError) {
      let cancelled = false;
      const stop = ws().subscribe<{ adviceStream: AdviceEvent }>(
        { query: ADVICE_STREAM, variables: { question } },
        {
          next: (r) => {
            if (cancelled) return;
            const e = r.errors?.[0] as { message: string; extensions?: { code?: string; retryAfter?: number } } | undefined;
            if (e) onError({ code: e.extensions?.code ?? 'INTERNAL', message: e.message, retryAfter: e.extensions?.retryAfter });
            else if (r.data?.adviceStream) onEvent(r.data.adviceStream);
          },
          error: (err) => {
            if (cancelled) return;
            if (isGraphQLErrors(err)) {
              onError({ code: err[0]?.extensions?.code ?? 'INTERNAL', message: err[0]?.message, retryAfter: err[0]?.extensions?.retryAfter });
              return;
            }
            void diagnose(endpoint).then((d) => !cancelled && onError(d));
          },
          complete: () => {},
        },
      );
      return () => {
        cancelled = true;
        stop();
      };
    },
    async statute(id) {
      return (await post<{ statute: StatuteDetail | null }>(endpoint, STATUTE_QUERY, { id })).statute;
    },
    async precedent(caseNumber) {
      return (await post<{ precedent: PrecedentDetail | null }>(endpoint, PRECEDENT_QUERY, { caseNumber })).precedent;
    },
  };
}
