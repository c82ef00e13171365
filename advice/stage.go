package advice

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// StageName names one step of the request path, as the stream reports it and Result.Timings
// keys it.
type StageName string

// The stages in order; AnswerDelta repeats once per piece of the answer.
const (
	StageLegalCheck       StageName = "LEGAL_CHECK"
	StageSimilarQuestions StageName = "SIMILAR_QUESTIONS"
	StagePrecedents       StageName = "PRECEDENTS"
	StageStatutes         StageName = "STATUTES"
	StageAnswerDelta      StageName = "ANSWER_DELTA"
	// StageAnswerReset withdraws the answer streamed so far (a generated answer given up for
	// the extractive one); Delta says why.
	StageAnswerReset StageName = "ANSWER_RESET"
	// StageCitations checks the answer's citations; its result goes out with DONE.
	StageCitations StageName = "CITATIONS"
	StageDone      StageName = "DONE"
	StageError     StageName = "ERROR"
)

// reportedWhenDone says whether the stream hears of a stage when it ends. The answer is sent in
// pieces as it is written instead, and the citation check with DONE.
func (s StageName) reportedWhenDone() bool {
	return s != StageAnswerDelta && s != StageAnswerReset && s != StageCitations
}

// Stage is one step of the request path. Run reads what earlier stages left in req and adds its
// own part; it should return soon after ctx ends (the pipeline stops waiting for it then
// anyway). An error ends the request.
type Stage interface {
	Name() StageName
	Run(ctx context.Context, req *Request) error
}

// Request is one question on its way through the stages: the question, the settings it is
// answered with, what the stages found so far, and the query, analysed (and embedded) once.
type Request struct {
	// Question is the validated question.
	Question string
	// Params and Sizes are the pipeline's, copied for this request.
	Params Params
	Sizes  Sizes
	// Result is what the person gets; each stage fills its part.
	Result *Result

	// QAVoters and PrecedentVoters are the similar Q&A pairs and precedents whose citations vote
	// in the statute ranking (not always those shown).
	QAVoters        []QAMatch
	PrecedentVoters []PrecedentMatch
	// Match is how much of the query the best similar precedent matches, in [0, 1].
	Match float32

	analyze func(string) Query
	query   *Query
	delta   func(string)
	reset   func(string)
	stopped bool
}

// Query is the question analysed for every index, on first use; its embedding, made by the
// first dense search that needs it, is shared the same way.
func (req *Request) Query() Query {
	if req.query == nil {
		q := req.analyze(req.Question)
		req.query = &q
	}
	return *req.query
}

// Stop ends the request after the running stage, with the result so far (a message that is
// not a legal question gets no advice).
func (req *Request) Stop() { req.stopped = true }

// Delta sends a piece of the answer to the client as it is written.
func (req *Request) Delta(piece string) {
	if req.delta != nil {
		req.delta(piece)
	}
}

// Reset tells the client to drop the answer streamed so far, and why; the deltas after it are
// the answer that replaces it.
func (req *Request) Reset(reason string) {
	if req.reset != nil {
		req.reset(reason)
	}
}

// TimedStage is a stage with its own deadline instead of the pipeline's StageTimeout (the
// generated answer takes seconds, a retrieval stage milliseconds).
type TimedStage interface {
	Stage
	Timeout(Params) time.Duration
}

// runStage runs one stage under the stage's deadline (StageTimeout) and the request's, and
// returns as soon as the stage finishes or either deadline passes or the request is called off,
// whichever comes first: a slow stage ends the request with TIMEOUT while it runs, not after,
// and a client that goes away is let go at once. The stage runs on its own goroutine with a ctx
// that ends then too, so its blocking calls (the vector store, an embedder that takes a ctx)
// stop with it; work that takes no ctx finishes on its own, its results unread. A panic in the
// stage is raised again on the caller's goroutine, where the request's recovery expects it.
func (p *Pipeline) runStage(ctx context.Context, s Stage, req *Request) (time.Duration, error) {
	name := s.Name()
	if err := ctx.Err(); err != nil {
		return 0, ended(err, name, "before")
	}
	timeout := p.StageTimeout
	if ts, ok := s.(TimedStage); ok {
		timeout = ts.Timeout(req.Params)
	}
	sctx, cancel := ctx, context.CancelFunc(func() {})
	if timeout > 0 {
		sctx, cancel = context.WithTimeout(ctx, timeout)
	}
	defer cancel()
	start := time.Now()
	type outcome struct {
		err   error
		panic any
	}
	done := make(chan outcome, 1)
	go func() {
		var o outcome
		defer func() {
			o.panic = recover()
			done <- o
		}()
		o.err = s.Run(sctx, req)
	}()
	select {
	case o := <-done:
		if o.panic != nil {
			panic(o.panic)
		}
		if o.err != nil {
			return 0, o.err
		}
		return time.Since(start), nil
	case <-sctx.Done():
		if err := ctx.Err(); err != nil {
			return 0, ended(err, name, "during")
		}
		return 0, &Error{CodeTimeout, fmt.Sprintf("stage %s took longer than %s", name, timeout)}
	}
}

// ended is the coded error of a request that ended before or during a stage.
func ended(err error, s StageName, when string) error {
	if errors.Is(err, context.Canceled) {
		return &Error{CodeClientClosed, fmt.Sprintf("the client went away %s %s", when, s)}
	}
	return &Error{CodeTimeout, fmt.Sprintf("the request ran out of time %s %s", when, s)}
}

// emitter hands events to the caller until the request is over; a stage still running after
// that (abandoned at its deadline) can no longer send anything.
type emitter struct {
	mu      sync.Mutex
	emit    func(Event)
	stopped bool
}

func (e *emitter) send(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.stopped {
		e.emit(ev)
	}
}

func (e *emitter) stop() {
	e.mu.Lock()
	e.stopped = true
	e.mu.Unlock()
}
