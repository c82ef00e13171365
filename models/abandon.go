package models

import "context"

// abandon runs work on its own goroutine and returns its result, or ctx's error as soon as ctx
// ends, whichever comes first. Work that is abandoned goes on to its end and its result is
// dropped. finish, when not nil, runs once work has returned, in either case: the place to
// release what work uses (a model must stay acquired until a run on it is over). With ctx
// already ended, work does not start.
func abandon[T any](ctx context.Context, work func() (T, error), finish func()) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		if finish != nil {
			finish()
		}
		return zero, err
	}
	if ctx.Done() == nil { // ctx never ends: nothing to abandon, no goroutine needed
		if finish != nil {
			defer finish()
		}
		return work()
	}
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		if finish != nil {
			defer finish()
		}
		v, err := work()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}
