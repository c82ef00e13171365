package graph

import (
	"context"
	"log/slog"

	"github.com/lawbot-kr/lawbot/advice"
	"github.com/lawbot-kr/lawbot/graph/model"
)

// stream runs the pipeline for adviceStream: one event per pipeline event, in order, then the
// channel closes. A failure (an invalid question, no pipeline yet, a timeout, a panic) becomes
// one ERROR event. When the client goes away ctx ends: the pipeline stops before its next stage
// and nothing more is sent.
func (r *Resolver) stream(ctx context.Context, question string) <-chan *model.AdviceEvent {
	out := make(chan *model.AdviceEvent)
	go func() {
		defer close(out)
		// client ends with the subscription; run also ends at the request timeout, after which
		// the ERROR event still goes out.
		client := ctx
		run, cancel := r.withTimeout(ctx)
		defer cancel()
		send := func(ev *model.AdviceEvent) bool {
			select {
			case out <- ev:
				return true
			case <-client.Done():
				return false
			}
		}
		fail := func(err error) {
			ce, _ := describe(err)
			var retry *int
			if ce.retryAfter > 0 {
				s := retrySeconds(ce.retryAfter)
				retry = &s
			}
			if r.cfg.OnError != nil {
				r.cfg.OnError(ce.code)
			}
			send(&model.AdviceEvent{Stage: model.AdviceStageError, Error: &model.AdviceError{Code: ce.code, Message: ce.message, RetryAfter: retry}})
		}
		defer func() {
			if v := recover(); v != nil {
				logPanic("adviceStream", v)
				fail(&advice.Error{Code: advice.CodeInternal, Message: internalMessage})
			}
		}()

		b, err := r.backend()
		if err != nil {
			fail(err)
			return
		}
		release, err := r.admit(run, question)
		if err != nil {
			if client.Err() == nil {
				fail(err)
			}
			return
		}
		defer release()
		res, err := b.Advisor.Advise(run, question, func(ev advice.Event) {
			send(adviceEvent(ev))
		})
		if err != nil {
			if client.Err() != nil {
				slog.Debug("graphql: adviceStream client went away")
				return
			}
			fail(err)
			return
		}
		r.observe(res)
	}()
	return out
}

// adviceEvent translates one pipeline event, with the payload of its stage only.
func adviceEvent(ev advice.Event) *model.AdviceEvent {
	out := &model.AdviceEvent{Stage: model.AdviceStage(ev.Stage)}
	res := ev.Result
	switch ev.Stage {
	case advice.StageLegalCheck:
		out.Legal = legalCheck(res.Legal)
	case advice.StageSimilarQuestions:
		out.SimilarQuestions = qaMatches(res.SimilarQuestions)
	case advice.StagePrecedents:
		out.Precedents = precedentMatches(res.Precedents)
	case advice.StageStatutes:
		out.Statutes = statuteMatches(res.Statutes)
		out.Graph = citationGraph(res.Graph)
	case advice.StageAnswerDelta, advice.StageAnswerReset:
		d := ev.Delta
		out.Delta = &d
	case advice.StageDone:
		out.Legal = legalCheck(res.Legal)
		out.Answer = answer(res.Answer)
		out.Advice = &model.Advice{Result: res}
	}
	return out
}
