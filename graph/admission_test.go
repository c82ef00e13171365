package graph

import (
	"context"
	"errors"
	"testing"
	"time"
)

func codeOf(err error) string {
	var r *refusal
	if errors.As(err, &r) {
		return r.code
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// A client over its share waits behind one that is not: the next free worker goes to the
// other client, whatever the order of arrival.
func TestAdmissionServesOtherClientsFirst(t *testing.T) {
	a := newAdmission(1, 1, 4, 5*time.Second)
	ctx := context.Background()
	release, err := a.enter(ctx, "attacker")
	if err != nil {
		t.Fatal(err)
	}
	order := make(chan string, 2)
	enter := func(client string) {
		r, err := a.enter(ctx, client)
		if err != nil {
			t.Errorf("%s: %v", client, err)
			order <- ""
			return
		}
		order <- client
		time.Sleep(10 * time.Millisecond)
		r()
	}
	go enter("attacker") // arrives first, over its share
	time.Sleep(20 * time.Millisecond)
	go enter("victim")
	time.Sleep(20 * time.Millisecond)
	release()
	if first, second := <-order, <-order; first != "victim" || second != "attacker" {
		t.Errorf("served %s then %s; want the victim first", first, second)
	}
}

// Work-conserving: one client alone may use every worker.
func TestAdmissionUsesFreeWorkers(t *testing.T) {
	a := newAdmission(3, 1, 0, time.Second)
	for i := range 3 {
		if _, err := a.enter(context.Background(), "bench"); err != nil {
			t.Fatalf("worker %d: %v", i, err)
		}
	}
}

func TestAdmissionRefusals(t *testing.T) {
	a := newAdmission(1, 1, 1, 50*time.Millisecond)
	ctx := context.Background()
	if _, err := a.enter(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { _, err := a.enter(ctx, "a"); waited <- err }() // the one queue place for clients over their share
	time.Sleep(10 * time.Millisecond)
	start := time.Now()
	if _, err := a.enter(ctx, "a"); codeOf(err) != CodeOverloaded || time.Since(start) > 10*time.Millisecond {
		t.Errorf("over its share with the queue full: %v after %s; want OVERLOADED at once", err, time.Since(start))
	}
	if err := <-waited; codeOf(err) != CodeOverloaded {
		t.Errorf("the queued request after the wait: %v", err)
	}
	gone, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := a.enter(gone, "b"); !errors.Is(err, context.Canceled) {
		t.Errorf("a client that left while waiting: %v", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.waiters) != 0 || a.overWaiting != 0 || a.running != 1 || a.held["a"] != 1 {
		t.Errorf("after the refusals: waiters %d over %d running %d held %v", len(a.waiters), a.overWaiting, a.running, a.held)
	}
}
