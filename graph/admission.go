package graph

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// admission is the advice pipeline's worker pool: at most slots runs at once, each client at
// most perClient of them (running or waiting), and at most queue more waiting up to wait for a
// slot. Everything beyond is refused at once with OVERLOADED and a Retry-After, so a flood turns
// into quick refusals instead of a queue that grows until every request times out.
type admission struct {
	slots     chan struct{}
	perClient int
	queue     int
	wait      time.Duration

	mu      sync.Mutex
	waiting int
	clients map[string]int // running + waiting, per client
}

// Defaults for the pipeline pool (Config.Pipeline*).
const (
	DefaultPipelineQueue = 8
	DefaultPipelineWait  = 2 * time.Second
)

func newAdmission(slots, perClient, queue int, wait time.Duration) *admission {
	return &admission{slots: make(chan struct{}, slots), perClient: perClient, queue: queue, wait: wait,
		clients: map[string]int{}}
}

// enter takes a worker for client, waiting for one at most a.wait; release gives it back.
func (a *admission) enter(ctx context.Context, client string) (release func(), err error) {
	a.mu.Lock()
	if a.clients[client] >= a.perClient {
		a.mu.Unlock()
		return nil, &refusal{code: CodeOverloaded, retryAfter: time.Second,
			msg: fmt.Sprintf("이미 처리 중인 질문이 있습니다. 잠시 후 다시 시도해 주세요. (this client already has %d advice request(s) running; the limit is %d)", a.perClient, a.perClient)}
	}
	select {
	case a.slots <- struct{}{}:
		a.clients[client]++
		a.mu.Unlock()
		return a.releaser(client), nil
	default:
	}
	if a.waiting >= a.queue {
		a.mu.Unlock()
		return nil, a.busy()
	}
	a.waiting++
	a.clients[client]++
	a.mu.Unlock()

	t := time.NewTimer(a.wait)
	defer t.Stop()
	select {
	case a.slots <- struct{}{}:
		a.mu.Lock()
		a.waiting--
		a.mu.Unlock()
		return a.releaser(client), nil
	case <-t.C:
		err = a.busy()
	case <-ctx.Done():
		err = ctx.Err()
	}
	a.mu.Lock()
	a.waiting--
	a.leave(client)
	a.mu.Unlock()
	return nil, err
}

func (a *admission) busy() error {
	return &refusal{code: CodeOverloaded, retryAfter: time.Second,
		msg: "LawBot이 지금 많은 질문을 처리하고 있습니다. 잠시 후 다시 시도해 주세요. (all advice workers are busy)"}
}

func (a *admission) releaser(client string) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			<-a.slots
			a.mu.Lock()
			a.leave(client)
			a.mu.Unlock()
		})
	}
}

// leave forgets one run of client; a.mu is held.
func (a *admission) leave(client string) {
	if a.clients[client]--; a.clients[client] <= 0 {
		delete(a.clients, client)
	}
}

// held is how many workers are taken (for tests).
func (a *admission) held() int { return len(a.slots) }
