package advice

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// runStage runs one stage under the stage's deadline (StageTimeout) and the request's, and
// returns as soon as the stage finishes or either deadline passes or the request is called off,
// whichever comes first: a slow stage ends the request with TIMEOUT while it runs, not after,
// and a client that goes away is let go at once. The stage runs on its own goroutine with a ctx
// that ends then too, so its blocking calls (the vector store, an embedder that takes a ctx)
// stop with it; work that takes no ctx finishes on its own, its results unread. A panic in the
// stage is raised again on the caller's goroutine, where the request's recovery expects it.
func (p *Pipeline) runStage(ctx context.Context, s Stage, run func(ctx context.Context)) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, ended(err, s, "before")
	}
	sctx, cancel := ctx, context.CancelFunc(func() {})
	if p.StageTimeout > 0 {
		sctx, cancel = context.WithTimeout(ctx, p.StageTimeout)
	}
	defer cancel()
	start := time.Now()
	done := make(chan any, 1)
	go func() {
		defer func() { done <- recover() }()
		run(sctx)
	}()
	select {
	case v := <-done:
		if v != nil {
			panic(v)
		}
		return time.Since(start), nil
	case <-sctx.Done():
		if err := ctx.Err(); err != nil {
			return 0, ended(err, s, "during")
		}
		return 0, &Error{CodeTimeout, fmt.Sprintf("stage %s took longer than %s", s, p.StageTimeout)}
	}
}

// ended is the coded error of a request that ended before or during a stage.
func ended(err error, s Stage, when string) error {
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
