package advice

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// LegalFilter tells whether a message is a legal question (models.Filter satisfies it).
type LegalFilter interface {
	Classify(text string) (isLegal bool, score float64)
}

// Sizes are how many of each kind a result holds.
type Sizes struct {
	SimilarQuestions, Precedents, Statutes int
}

// Pipeline runs the request path: legal check → similar questions → similar precedents →
// statute ranking → answer → citation check, reporting each finished stage.
type Pipeline struct {
	Retriever *Retriever
	Filter    LegalFilter // nil: every message is treated as legal
	Sizes     Sizes
	// StageTimeout bounds each stage; the request's own deadline still applies.
	StageTimeout time.Duration
}

// NewPipeline wires the stages over a retriever and a filter.
func NewPipeline(r *Retriever, f LegalFilter) *Pipeline {
	return &Pipeline{Retriever: r, Filter: f, Sizes: Sizes{SimilarQuestions: 5, Precedents: 10, Statutes: 10},
		StageTimeout: 5 * time.Second}
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
	res := &Result{Question: q, Timings: map[Stage]time.Duration{}}
	stage := func(s Stage, run func()) error {
		if err := ctx.Err(); err != nil {
			if errors.Is(err, context.Canceled) {
				return &Error{CodeClientClosed, fmt.Sprintf("the client went away before %s", s)}
			}
			return &Error{CodeTimeout, fmt.Sprintf("the request ended before %s: %v", s, err)}
		}
		start := time.Now()
		run()
		res.Timings[s] = time.Since(start)
		if p.StageTimeout > 0 && res.Timings[s] > p.StageTimeout {
			return &Error{CodeTimeout, fmt.Sprintf("stage %s took %s (limit %s)", s, res.Timings[s].Round(time.Millisecond), p.StageTimeout)}
		}
		emit(Event{Stage: s, Result: res})
		return nil
	}

	if err := stage(StageLegalCheck, func() { res.Legal = p.checkLegal(q) }); err != nil {
		return nil, err
	}
	if !res.Legal.IsLegal {
		emit(Event{Stage: StageDone, Result: res})
		return res, nil
	}
	r := p.Retriever
	query := r.Analyze(q)
	var votingQA []QAMatch
	if err := stage(StageSimilarQuestions, func() {
		res.SimilarQuestions, votingQA = r.questionVoters(query, p.Sizes.SimilarQuestions, r.Params.VoteQA)
	}); err != nil {
		return nil, err
	}
	var voting []PrecedentMatch
	if err := stage(StagePrecedents, func() {
		var shown []PrecedentMatch
		shown, voting = r.precedentVoters(&query, q, p.Sizes.Precedents)
		res.Precedents = shown[:min(len(shown), p.Sizes.Precedents)]
	}); err != nil {
		return nil, err
	}
	if err := stage(StageStatutes, func() {
		res.Statutes = r.RankStatutes(query, votingQA, voting, p.Sizes.Statutes)
		res.Graph = p.citationGraph(res)
	}); err != nil {
		return nil, err
	}
	start := time.Now()
	res.Answer = p.composeAnswer(res, func(delta string) {
		emit(Event{Stage: StageAnswerDelta, Result: res, Delta: delta})
	})
	res.Answer.Citations = p.verifyCitations(res.Answer.Text)
	res.Timings[StageAnswerDelta] = time.Since(start)
	emit(Event{Stage: StageDone, Result: res})
	return res, nil
}
