// Package swap holds the one value a server answers from (a state version, a set of loaded
// models) and replaces it without dropping a request: every operation pins the value it
// started on, a replaced value is closed once its pinned operations have finished (or a drain
// time has passed), and no operation starts on a value after it was replaced.
package swap

import (
	"sync"
	"sync/atomic"
	"time"
)

type entry[T any] struct {
	v       T
	refs    atomic.Int64
	retired atomic.Bool
}

// acquire pins the entry for one operation; false once it is retired. The count goes up before
// the check and retire sets the flag before it reads the count, so an operation either sees the
// flag or is waited for.
func (e *entry[T]) acquire() bool {
	e.refs.Add(1)
	if e.retired.Load() {
		e.refs.Add(-1)
		return false
	}
	return true
}

// Slot holds the current value. The zero Slot is empty; set Close before the first Install.
type Slot[T any] struct {
	// Close releases a replaced value; cut is how many operations were still pinned to it when
	// Drain ran out (0 when they all finished).
	Close func(v T, cut int64)
	// Drain bounds the wait for a replaced value's operations (default 2 minutes).
	Drain time.Duration

	cur     atomic.Pointer[entry[T]]
	retired sync.WaitGroup
}

// Current is the value now; ok is false while the slot is empty.
func (s *Slot[T]) Current() (v T, ok bool) {
	if e := s.cur.Load(); e != nil {
		return e.v, true
	}
	return v, false
}

// Pin runs fn on the current value, which is not closed before fn returns; false (fn not run)
// while the slot is empty.
func (s *Slot[T]) Pin(fn func(T)) bool {
	for {
		e := s.cur.Load()
		if e == nil {
			return false
		}
		if e.acquire() {
			defer e.refs.Add(-1)
			fn(e.v)
			return true
		}
	}
}

// Install makes v current; the value before is closed in the background once its operations
// have finished.
func (s *Slot[T]) Install(v T) {
	if old := s.cur.Swap(&entry[T]{v: v}); old != nil {
		s.retire(old)
	}
}

func (s *Slot[T]) retire(old *entry[T]) {
	old.retired.Store(true)
	s.retired.Add(1)
	go func() {
		defer s.retired.Done()
		drain := s.Drain
		if drain <= 0 {
			drain = 2 * time.Minute
		}
		deadline := time.Now().Add(drain)
		for old.refs.Load() > 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if s.Close != nil {
			s.Close(old.v, old.refs.Load())
		}
	}()
}

// Shutdown empties the slot and waits until every replaced value is closed.
func (s *Slot[T]) Shutdown() {
	if e := s.cur.Swap(nil); e != nil {
		s.retire(e)
	}
	s.retired.Wait()
}
