package advice

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// Sizes are how many of each kind a result holds.
type Sizes struct {
	SimilarQuestions, Precedents, Statutes int
}

// Pipeline runs the request path: legal check → similar questions → similar precedents →
// statute ranking → answer → citation check, reporting each finished stage. The API, the stream
// and lawbot eval all run it.
type Pipeline struct {
	// Retriever is the corpus the stages search: the state, its indexes and vector store.
	Retriever *Retriever
	Filter    LegalFilter // nil: every message is treated as legal
	// HeldOut, when set, hides Q&A pairs from the similar questions (and so from the vote and
	// the prompt): the answer evaluation asks a pair's question without its own answer.
	HeldOut func(qa int32) bool
	// HeldOutPrecedent, when set, hides precedents from the similar precedents (and so from the
	// vote): the fold evaluation asks a decision's 판시사항 without the decision itself.
	HeldOutPrecedent func(n int32) bool
	// StatuteRanker, when set, ranks the statute candidates (the learned ranker) instead of the
	// hand weights; StatuteCandidates, when set, hears each ranking's candidates with their
	// features (the ranker's training).
	StatuteRanker     *StatuteRanker
	StatuteCandidates func([]StatuteCandidate)
	// Generator, when set, writes the answer (the extractive composer is its fallback); nil:
	// the extractive composer answers.
	Generator TextGenerator
	// Params and Sizes are the stages' settings; each request works on its own copy.
	Params Params
	Sizes  Sizes
	// StageTimeout bounds each stage; the request's own deadline still applies.
	StageTimeout time.Duration
	// Counters count what went wrong on the way and was worked around; /metrics exports them.
	Counters *Counters
	// Stages, when set, replace the standard request path (tests plug in fakes this way); nil
	// runs StandardStages over the fields above.
	Stages []Stage
}

// Counters are the pipeline's failure counts: what failed and was worked around.
type Counters struct {
	// DenseFailures counts dense searches that failed (store down, timeout) and fell back to
	// the lexical list.
	DenseFailures atomic.Int64
	// TaggerFailures counts statute tagger runs that failed; the ranking went on without it.
	TaggerFailures atomic.Int64
	// GeneratorFailures counts generations that failed or were refused (busy, prompt too long);
	// the extractive answer was given instead. A model that echoed or repeated is not counted.
	GeneratorFailures atomic.Int64
}

// denseFailed counts a failed dense search; the search goes on lexically.
func (c *Counters) denseFailed(backend string, err error) {
	c.DenseFailures.Add(1)
	slog.Warn("dense search failed; lexical results only", "backend", backend, "err", err)
}

// NewPipeline wires the standard stages over a retriever and a filter.
func NewPipeline(r *Retriever, f LegalFilter) *Pipeline {
	return &Pipeline{Retriever: r, Filter: f, Params: DefaultParams(),
		Sizes:        Sizes{SimilarQuestions: 5, Precedents: 10, Statutes: 10},
		StageTimeout: 5 * time.Second, Counters: &Counters{}}
}

// StandardStages are the request path over the pipeline's retriever, filter and counters, in
// order: legal check, similar questions, similar precedents, statute ranking, answer, citation
// check.
func (p *Pipeline) StandardStages() []Stage {
	r, c := p.Retriever, p.counters()
	var answer Stage = composeAnswer{corpus: r}
	if p.Generator != nil {
		answer = generateAnswer{gen: p.Generator, template: DefaultPromptTemplate(), fallback: composeAnswer{corpus: r}, counters: c}
	}
	return []Stage{
		legalCheck{filter: p.Filter},
		similarQuestions{corpus: r, counters: c, heldOut: p.HeldOut},
		similarPrecedents{corpus: r, counters: c, heldOut: p.HeldOutPrecedent},
		rankStatutes{corpus: r, counters: c, ranker: p.StatuteRanker, candidates: p.StatuteCandidates},
		answer,
		verifyCitations{corpus: r},
	}
}

// counters are the pipeline's, or fresh ones for a pipeline made without NewPipeline.
func (p *Pipeline) counters() *Counters {
	if p.Counters == nil {
		return &Counters{}
	}
	return p.Counters
}

// Advise answers one question. emit (which may be nil) receives each finished stage, the answer
// in pieces and DONE; the returned Result is the same as the last event's. A question that is not
// legal ends after LEGAL_CHECK with no answer.
func (p *Pipeline) Advise(ctx context.Context, question string, emit func(Event)) (*Result, error) {
	if emit == nil {
		emit = func(Event) {}
	}
	q, err := ValidateQuestion(question)
	if err != nil {
		return nil, err
	}
	res := &Result{Question: q, Timings: map[StageName]time.Duration{}}
	out := &emitter{emit: emit}
	defer out.stop() // a stage abandoned at its deadline sends nothing after the request's end
	req := &Request{Question: q, Params: p.Params, Sizes: p.Sizes, Result: res,
		analyze: p.Retriever.Analyze,
		delta: func(piece string) {
			out.send(Event{Stage: StageAnswerDelta, Result: res, Delta: piece})
		},
		reset: func(reason string) {
			out.send(Event{Stage: StageAnswerReset, Result: res, Delta: reason})
		}}
	stages := p.Stages
	if stages == nil {
		stages = p.StandardStages()
	}
	deg := &degradations{}
	ctx = withDegradations(ctx, deg)
	for _, s := range stages {
		d, err := p.runStage(ctx, s, req)
		if err != nil {
			return nil, err
		}
		res.Timings[s.Name()] = d
		res.Degraded = deg.snapshot()
		if s.Name().reportedWhenDone() {
			out.send(Event{Stage: s.Name(), Result: res})
		}
		if req.stopped {
			break
		}
	}
	out.send(Event{Stage: StageDone, Result: res})
	return res, nil
}
