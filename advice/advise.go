package advice

import (
	"context"
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
	out := &emitter{emit: emit}
	defer out.stop() // a stage abandoned at its deadline sends nothing after the request's end
	stage := func(s Stage, run func(ctx context.Context)) error {
		d, err := p.runStage(ctx, s, run)
		if err != nil {
			return err
		}
		res.Timings[s] = d
		out.send(Event{Stage: s, Result: res})
		return nil
	}

	if err := stage(StageLegalCheck, func(context.Context) { res.Legal = p.checkLegal(q) }); err != nil {
		return nil, err
	}
	if !res.Legal.IsLegal {
		out.send(Event{Stage: StageDone, Result: res})
		return res, nil
	}
	r := p.Retriever
	query := r.Analyze(q)
	var votingQA []QAMatch
	if err := stage(StageSimilarQuestions, func(ctx context.Context) {
		res.SimilarQuestions, votingQA = r.questionVoters(ctx, query, p.Sizes.SimilarQuestions, r.Params.VoteQA)
	}); err != nil {
		return nil, err
	}
	var voting []PrecedentMatch
	if err := stage(StagePrecedents, func(ctx context.Context) {
		var shown []PrecedentMatch
		shown, voting = r.precedentVoters(ctx, &query, q, p.Sizes.Precedents)
		res.Precedents = shown[:min(len(shown), p.Sizes.Precedents)]
	}); err != nil {
		return nil, err
	}
	if err := stage(StageStatutes, func(ctx context.Context) {
		res.Statutes = r.RankStatutes(ctx, query, votingQA, voting, p.Sizes.Statutes)
		res.Graph = p.citationGraph(res)
	}); err != nil {
		return nil, err
	}
	// The answer, sent in pieces as it is written, then checked: one stage, under the same
	// deadline as the others.
	d, err := p.runStage(ctx, StageAnswerDelta, func(context.Context) {
		res.Answer = p.composeAnswer(res, func(delta string) {
			out.send(Event{Stage: StageAnswerDelta, Result: res, Delta: delta})
		})
		res.Answer.Citations = p.verifyCitations(res.Answer.Text)
	})
	if err != nil {
		return nil, err
	}
	res.Timings[StageAnswerDelta] = d
	out.send(Event{Stage: StageDone, Result: res})
	return res, nil
}
