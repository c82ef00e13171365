package graph

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// admission is the advice pipeline's worker pool: at most slots pipelines run at once. It is
// work-conserving — a free worker goes to whoever asks — but fair when contended: a client that
// already runs its share (perClient) waits behind every client that does not, and may have at
// most queue requests waiting in all. Waiting ends after wait. Whatever cannot wait is refused
// at once with OVERLOADED and a Retry-After, so a flood from one client turns into quick
// refusals while another client's request takes the next free worker.
type admission struct {
	slots, perClient, queue int
	wait                    time.Duration

	mu          sync.Mutex
	running     int
	held        map[string]int // running, per client
	waiters     []*waiter
	overWaiting int // waiters whose client was at its share when they arrived
}

type waiter struct {
	client string
	over   bool
	ready  chan struct{} // closed when a worker is handed over
	handed bool
}

// Defaults for the pipeline pool (Config.Pipeline*).
const (
	DefaultPipelineQueue = 8
	DefaultPipelineWait  = 2 * time.Second
)

func newAdmission(slots, perClient, queue int, wait time.Duration) *admission {
	return &admission{slots: slots, perClient: perClient, queue: queue, wait: wait, held: map[string]int{}}
}

// enter takes a worker for client, waiting for one at most a.wait; release gives it back.
func (a *admission) enter(ctx context.Context, client string) (release func(), err error) {
	a.mu.Lock()
	if a.running < a.slots && len(a.waiters) == 0 {
		a.running++
		a.held[client]++
		a.mu.Unlock()
		return a.releaser(client), nil
	}
	over := a.held[client] >= a.perClient
	switch {
	case over && a.overWaiting >= a.queue:
		n := a.held[client]
		a.mu.Unlock()
		return nil, &refusal{code: CodeOverloaded, retryAfter: time.Second,
			msg: fmt.Sprintf("이미 처리 중인 질문이 있습니다. 잠시 후 다시 시도해 주세요. (this client already runs %d advice request(s), its share of %d, and the queue is full)", n, a.perClient)}
	case !over && len(a.waiters) >= a.slots+4*a.queue:
		a.mu.Unlock()
		return nil, a.busy()
	}
	w := &waiter{client: client, over: over, ready: make(chan struct{})}
	a.waiters = append(a.waiters, w)
	if over {
		a.overWaiting++
	}
	a.mu.Unlock()

	t := time.NewTimer(a.wait)
	defer t.Stop()
	select {
	case <-w.ready:
		return a.releaser(client), nil
	case <-t.C:
		err = a.busy()
	case <-ctx.Done():
		err = ctx.Err()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if w.handed { // a worker arrived as the wait ended: take it after all
		return a.releaser(client), nil
	}
	a.remove(w)
	return nil, err
}

func (a *admission) busy() error {
	return &refusal{code: CodeOverloaded, retryAfter: time.Second,
		msg: "LawBot이 지금 많은 질문을 처리하고 있습니다. 잠시 후 다시 시도해 주세요. (all advice workers are busy)"}
}

func (a *admission) releaser(client string) func() {
	var once sync.Once
	return func() { once.Do(func() { a.leave(client) }) }
}

// leave gives client's worker to the next waiter — the first that arrived under its client's
// share, else the first — or back to the pool.
func (a *admission) leave(client string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.held[client]--; a.held[client] <= 0 {
		delete(a.held, client)
	}
	if len(a.waiters) == 0 {
		a.running--
		return
	}
	next := a.waiters[0]
	for _, w := range a.waiters {
		if !w.over {
			next = w
			break
		}
	}
	a.remove(next)
	next.handed = true
	a.held[next.client]++
	close(next.ready)
}

// remove takes w out of the queue; a.mu is held.
func (a *admission) remove(w *waiter) {
	for i, x := range a.waiters {
		if x == w {
			a.waiters = append(a.waiters[:i], a.waiters[i+1:]...)
			if w.over {
				a.overWaiting--
			}
			return
		}
	}
}
