package graph

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/lawbot-kr/lawbot/advice"
	"github.com/lawbot-kr/lawbot/graph/model"
	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/lookup"
)

// MaxFirst caps every `first` argument: more is never useful to a person and costs the server.
const MaxFirst = 50

// Resolver holds what the resolvers need: the handler's configuration. Resolvers only translate
// between the schema and the backend (the advice pipeline, the look-ups); the backend decides.
type Resolver struct {
	cfg  Config
	pool *admission // the advice pipeline's workers; nil: unbounded
}

// backend is the loaded backend, or a coded UNAVAILABLE error while the indexes load.
func (r *Resolver) backend() (*Backend, error) {
	if r.cfg.Backend != nil {
		if b := r.cfg.Backend(); b != nil {
			return b, nil
		}
	}
	if r.cfg.LoadFailed != nil && r.cfg.LoadFailed() {
		return nil, &advice.Error{Code: advice.CodeUnavailable,
			Message: "LawBot이 색인을 불러오지 못했습니다. 운영자가 확인하고 있습니다. (loading the indexes failed; /readyz says why)"}
	}
	return nil, &advice.Error{Code: advice.CodeUnavailable,
		Message: "LawBot이 아직 색인을 불러오는 중입니다. 잠시 후 다시 시도해 주세요. (the indexes are still loading)"}
}

// QuestionRunesPerRequest is how much question one request of the rate budget pays for: the
// pipeline's cost grows with the question, so a question of n characters is charged
// ceil(n/500) requests (the HTTP request or websocket operation itself is the first).
const QuestionRunesPerRequest = 500

// admit charges a long question its extra share of the client's rate budget and takes one of
// the pipeline's workers for the client. A question the pipeline would refuse anyway is
// refused first, without charging or waiting.
func (r *Resolver) admit(ctx context.Context, question string) (release func(), err error) {
	q, err := advice.ValidateQuestion(question)
	if err != nil {
		return nil, err
	}
	if r.cfg.Charge != nil {
		n := utf8.RuneCountInString(q)
		cost := (n + QuestionRunesPerRequest - 1) / QuestionRunesPerRequest // the request itself paid for one
		for range cost - 1 {
			if ok, wait := r.cfg.Charge(ctx); !ok {
				return nil, &refusal{code: CodeRateLimited, retryAfter: wait,
					msg: fmt.Sprintf("a question of %d characters counts as %d requests; retry after %d s", n, cost, retrySeconds(wait))}
			}
		}
	}
	if r.pool == nil {
		return func() {}, nil
	}
	return r.pool.enter(ctx, r.cfg.Client(ctx))
}

// withTimeout bounds one pipeline call by the configured request timeout.
func (r *Resolver) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, r.cfg.RequestTimeout)
}

// observe reports each stage's latency to the metrics hook.
func (r *Resolver) observe(res *advice.Result) {
	if r.cfg.Observe == nil || res == nil {
		return
	}
	for _, s := range stageOrder {
		if d, ok := res.Timings[s]; ok {
			r.cfg.Observe(stageName(s), d)
		}
	}
}

// stageOrder lists the pipeline's timed stages in request order.
var stageOrder = []advice.StageName{advice.StageLegalCheck, advice.StageSimilarQuestions, advice.StagePrecedents,
	advice.StageStatutes, advice.StageAnswerDelta}

// stageName names a timed stage for metrics: the answer is timed as a whole, not per delta.
func stageName(s advice.StageName) string {
	if s == advice.StageAnswerDelta {
		return "ANSWER"
	}
	return string(s)
}

// limit reads a `first` argument: the schema default when null, at most MaxFirst, never negative.
func limit(first *int, def int) (int, error) {
	if first == nil {
		return def, nil
	}
	if *first < 0 {
		return 0, &advice.Error{Code: advice.CodeBadArgument, Message: fmt.Sprintf("first must not be negative (got %d)", *first)}
	}
	return min(*first, MaxFirst), nil
}

// head is the first n items of a list.
func head[T any](list []T, n int) []T { return list[:min(n, len(list))] }

// optional turns an empty string into null.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// score renders a float32 score as the shortest float64 with the same value, so that JSON shows
// 0.1 and not 0.10000000149011612.
func score(f float32) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(float64(f), 'g', -1, 32), 64)
	return v
}

func legalCheck(l advice.LegalCheck) *model.LegalCheck {
	d := model.LegalDecision(l.Decision)
	if !d.IsValid() { // a pipeline without a filter's decision: from isLegal
		d = model.LegalDecisionNotLegal
		if l.IsLegal {
			d = model.LegalDecisionLegal
		}
	}
	return &model.LegalCheck{IsLegal: l.IsLegal, Decision: d, Score: score(l.Score), Explanation: optional(l.Explanation)}
}

func answer(a *advice.Answer) *model.Answer {
	if a == nil {
		return nil
	}
	out := &model.Answer{Text: a.Text, Generator: a.Generator, Fallback: optional(a.Fallback), Citations: citations(a.Citations),
		Sentences: make([]*model.AnswerSentence, len(a.Sentences))}
	for i, s := range a.Sentences {
		out.Sentences[i] = &model.AnswerSentence{Text: s.Text, Source: s.Source, Ref: optional(s.Ref), Flagged: s.Flagged}
	}
	return out
}

func citations(list []advice.VerifiedCitation) []*model.Citation {
	out := make([]*model.Citation, len(list))
	for i, c := range list {
		out[i] = &model.Citation{ID: c.ID, Resolved: c.Resolved, InEvidence: c.InEvidence, Statute: c.Statute}
	}
	return out
}

func qaMatches(list []advice.QAMatch) []*model.QAMatch {
	out := make([]*model.QAMatch, len(list))
	for i, m := range list {
		out[i] = &model.QAMatch{Score: score(m.Score), Qa: m.QA}
	}
	return out
}

func precedentMatches(list []advice.PrecedentMatch) []*model.PrecedentMatch {
	out := make([]*model.PrecedentMatch, len(list))
	for i, m := range list {
		out[i] = &model.PrecedentMatch{Score: score(m.Score), Precedent: m.Precedent}
	}
	return out
}

func statuteMatches(list []advice.StatuteMatch) []*model.StatuteMatch {
	out := make([]*model.StatuteMatch, len(list))
	for i, m := range list {
		sm := &model.StatuteMatch{Score: score(m.Score), Statute: m.Statute,
			Reasons: make([]string, len(m.Reasons)), ReasonDetails: make([]*model.Reason, len(m.Reasons))}
		for j, r := range m.Reasons {
			sm.Reasons[j] = r.String()
			sm.ReasonDetails[j] = &model.Reason{Kind: r.Kind, Ref: r.Ref, Weight: score(r.Weight), Text: r.String()}
		}
		out[i] = sm
	}
	return out
}

func citationGraph(g advice.CitationGraph) *model.CitationGraph {
	out := &model.CitationGraph{Nodes: make([]*model.GraphNode, len(g.Nodes)), Edges: make([]*model.GraphEdge, len(g.Edges))}
	for i, n := range g.Nodes {
		out.Nodes[i] = &model.GraphNode{ID: n.ID, Kind: n.Kind, Label: n.Label}
	}
	for i, e := range g.Edges {
		out.Edges[i] = &model.GraphEdge{From: e.From, To: e.To, Kind: e.Kind}
	}
	return out
}

func timings(t map[advice.StageName]time.Duration) []*model.StageTiming {
	var out []*model.StageTiming
	for _, s := range stageOrder {
		if d, ok := t[s]; ok {
			out = append(out, &model.StageTiming{Stage: model.AdviceStage(s), Ms: float64(d.Microseconds()) / 1000})
		}
	}
	return out
}

// precedents returns a non-nil list, as the schema's non-null lists expect.
func precedents(list []*law.Precedent) []*law.Precedent {
	if list == nil {
		return []*law.Precedent{}
	}
	return slices.Clip(list)
}

// statuteCitations are article ids (a precedent's 참조조문) resolved against the corpus.
func statuteCitations(list []lookup.Article) []*model.Citation {
	out := make([]*model.Citation, len(list))
	for i, a := range list {
		out[i] = &model.Citation{ID: a.ID, Resolved: a.InCorpus, InEvidence: true, Statute: a.Statute} // no model wrote it
	}
	return out
}

// precedentFilter translates the schema's filter, checking its dates.
func precedentFilter(f *model.PrecedentFilter) (advice.PrecedentFilter, error) {
	var out advice.PrecedentFilter
	if f == nil {
		return out, nil
	}
	str := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	out = advice.PrecedentFilter{CourtLevel: str(f.CourtLevel), CaseType: str(f.CaseType), From: str(f.From), To: str(f.To)}
	for _, d := range []string{out.From, out.To} {
		if d == "" {
			continue
		}
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return out, &advice.Error{Code: advice.CodeBadArgument, Message: fmt.Sprintf("filter dates are YYYY-MM-DD (got %q)", d)}
		}
	}
	return out, nil
}
