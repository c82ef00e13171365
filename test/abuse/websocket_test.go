//go:build abuse

package abuse

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

const (
	codeTooManyOperations = "TOO_MANY_OPERATIONS"
	codeRateLimited       = "RATE_LIMITED"
	codeQueryTooLarge     = "QUERY_TOO_LARGE"
)

// warmIntrospection answers the introspection query once, so that the operations a test holds
// open with it find it parsed and validated: the server reads a burst of them in microseconds
// while each takes milliseconds to run.
func warmIntrospection(t *testing.T, s *lawbotServer) {
	t.Helper()
	r := newClient(t, freshIP()).mustPost(t, s, 5*time.Second, compactIntrospection, nil)
	if r.Status != 200 || len(r.Errors) > 0 {
		t.Fatalf("the introspection query fails: %s", r.brief())
	}
}

// TestWebsocketOperationCaps: one socket runs at most 8 operations at once and one client at
// most 16 over all its sockets; the next subscribe gets an error message with
// TOO_MANY_OPERATIONS. The operations held open are introspection queries (46 KB answers, a few
// ms each to run), not advice: one client gets only a share of the advice pipelines, the rest
// of its advice waits or is refused (OVERLOADED), so advice operations do not reliably stay
// open together.
func TestWebsocketOperationCaps(t *testing.T) {
	s := sharedServer(t)
	warmIntrospection(t, s)
	question := map[string]any{"q": adviceQuestion}

	t.Run("per socket", func(t *testing.T) {
		ids := []string{"1", "2", "3", "4", "5", "6", "7", "8"}
		const ninth = "9"
		// The 9 subscribes go out in one write: the server reads them all (~0.3 ms) before the
		// first of the 8 can have run (~2.5 ms). Should one have ended before the 9th was
		// answered anyway, the attempt proves nothing and is repeated.
		for attempt := 1; attempt <= 3; attempt++ {
			w := mustDialWS(t, s, wsOptions{ip: freshIP()})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := <-w.burst(func() error {
				for _, id := range ids {
					if err := w.subscribe(ctx, id, compactIntrospection, nil); err != nil {
						return err
					}
				}
				return w.subscribe(ctx, ninth, streamQuery, question)
			})
			if err != nil {
				t.Fatalf("subscribing: %v", err)
			}
			out, err := w.collect(ctx, append(ids, ninth)...)
			cancel()
			if err != nil {
				t.Fatalf("reading the answers: %v; so far %s", err, describeOutcomes(out))
			}
			for _, id := range ids {
				if slices.Contains(out[id].Codes, codeTooManyOperations) {
					t.Errorf("operation %s of 8 was refused: %v", id, out[id].Codes)
				}
			}
			nine := out[ninth]
			if slices.Contains(nine.Codes, codeTooManyOperations) {
				t.Logf("attempt %d: the 9th operation was refused with %v while 8 ran: %s", attempt, nine.Codes, describeOutcomes(out))
				return
			}
			firstEnd := math.MaxInt
			for _, id := range ids {
				firstEnd = min(firstEnd, out[id].Last)
			}
			if firstEnd < nine.First {
				t.Logf("attempt %d proves nothing: an operation ended before the 9th was answered (%s)", attempt, describeOutcomes(out))
				continue
			}
			t.Fatalf("the 9th operation on a socket running 8 was not refused with %s: %d messages, codes %v (%s)",
				codeTooManyOperations, nine.Messages, nine.Codes, describeOutcomes(out))
		}
		t.Fatal("3 attempts: the 8 operations never stayed open until the 9th was answered")
	})

	t.Run("per client", func(t *testing.T) {
		// Two sockets from one address each get 8 operations, then a ping, in one write. The
		// server can queue only ~44 KB for these sockets while the test does not read them,
		// less than one 46 KB answer, so none of the 16 can end. If the pong comes back before
		// any answer, the server read all 8 subscribes before an answer blocked it (else it may
		// have stopped reading them halfway, and the attempt proves nothing).
		for attempt := 1; attempt <= 3; attempt++ {
			ip := freshIP()
			var held []*wsConn
			var idsOf [][]string
			for k := range 2 {
				w := mustDialWS(t, s, wsOptions{ip: ip, pushBack: true})
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				var ids []string
				for i := 1; i <= 8; i++ {
					ids = append(ids, fmt.Sprintf("%c%d", 'a'+k, i))
				}
				err := <-w.burst(func() error {
					for _, id := range ids {
						if err := w.subscribe(ctx, id, compactIntrospection, nil); err != nil {
							return err
						}
					}
					return w.send(ctx, wsMessage{Type: "ping"})
				})
				cancel()
				if err != nil {
					t.Fatalf("socket %d: %v", k+1, err)
				}
				held = append(held, w)
				idsOf = append(idsOf, ids)
			}
			time.Sleep(200 * time.Millisecond)

			third := mustDialWS(t, s, wsOptions{ip: ip})
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err := third.subscribe(ctx, "c1", streamQuery, question)
			var c1 *wsOutcome
			if err == nil {
				c1, err = third.await(ctx, "c1")
			}
			cancel()
			if err != nil {
				t.Fatalf("the 17th operation got no answer: %v", err)
			}

			// Let the 16 finish: they were within the limits and must run.
			conclusive := true
			for k, w := range held {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				first, err := w.read(ctx)
				var out map[string]*wsOutcome
				if err == nil {
					out, err = w.collect(ctx, idsOf[k]...)
				}
				cancel()
				if err != nil {
					t.Fatalf("socket %d: reading the answers: %v; so far %s", k+1, err, describeOutcomes(out))
				}
				for id, o := range out {
					if slices.Contains(o.Codes, codeTooManyOperations) {
						t.Errorf("socket %d: operation %s (of 16) was refused: %v", k+1, id, o.Codes)
					}
				}
				if first.Type != "pong" {
					conclusive = false
				}
			}
			refused := slices.Contains(c1.Codes, codeTooManyOperations)
			switch {
			case refused:
				t.Logf("attempt %d: the 17th operation (third socket) was refused with %v while 2 × 8 ran", attempt, c1.Codes)
				return
			case !conclusive:
				t.Logf("attempt %d proves nothing: an answer came before a socket's pong (the server may not have read all its subscribes)", attempt)
				continue
			}
			t.Fatalf("a 17th operation from a client running 16 (8 on each of two other sockets) was not refused with %s: %d messages, codes %v",
				codeTooManyOperations, c1.Messages, c1.Codes)
		}
		t.Fatal("3 attempts: the server never read a whole burst before answering")
	})
}

// describeOutcomes sums up a collect: "1: 2 msgs [] ended @3-9; …", in id order.
func describeOutcomes(out map[string]*wsOutcome) string {
	ids := make([]string, 0, len(out))
	for id := range out {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var parts []string
	for _, id := range ids {
		o := out[id]
		parts = append(parts, fmt.Sprintf("%s: %d msgs %v ended=%v @%d-%d", id, o.Messages, o.Codes, o.Ended, o.First, o.Last))
	}
	return strings.Join(parts, "; ")
}

// TestWebsocketRateCharged: every subscribe costs one request of the client's rate budget
// (burst 30, 10/s), as an HTTP request does; past it, subscribes get RATE_LIMITED.
func TestWebsocketRateCharged(t *testing.T) {
	s := sharedServer(t)
	w := mustDialWS(t, s, wsOptions{ip: freshIP()})
	const tries = 45
	question := map[string]any{"q": adviceQuestion}
	start := time.Now()
	refusedAt := 0
	var refusal *wsOutcome
	for i := 1; i <= tries && refusedAt == 0; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		id := strconv.Itoa(i)
		if err := w.subscribe(ctx, id, streamQuery, question); err != nil {
			cancel()
			t.Fatalf("subscribe %d: %v", i, err)
		}
		o, err := w.await(ctx, id)
		cancel()
		switch {
		case err != nil:
			t.Fatalf("subscribe %d: %v", i, err)
		case slices.Contains(o.Codes, codeRateLimited):
			refusedAt, refusal = i, o
		case len(o.Codes) > 0:
			t.Fatalf("subscribe %d (one at a time) was refused: %v", i, o.Codes)
		}
	}
	took := time.Since(start).Round(time.Millisecond)
	if refusedAt == 0 {
		t.Fatalf("%d subscribes on one socket in %v, one after another, and none was refused with %s: subscribes are not charged to the client's budget (burst 30, 10/s)",
			tries, took, codeRateLimited)
	}
	t.Logf("subscribes 1–%d ran; subscribe %d was refused with %v after %v", refusedAt-1, refusedAt, refusal.Codes, took)
	if refusedAt < 20 {
		t.Errorf("refused already at subscribe %d; the budget is a burst of 30", refusedAt)
	}
}

// TestWebsocketMessageLimit: a websocket message may be as large as an HTTP body (64 KiB) and
// no larger: a 100 KB subscribe closes the socket with 1009 (message too big). Floods of
// __typename in a subscribe are refused as QUERY_TOO_LARGE without validating them.
func TestWebsocketMessageLimit(t *testing.T) {
	subscribeQuestion := func(t *testing.T, size int) (*wsOutcome, error) {
		s := sharedServer(t)
		w := mustDialWS(t, s, wsOptions{ip: freshIP()})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := w.subscribe(ctx, "1", streamQuery, map[string]any{"q": strings.Repeat("a", size)}); err != nil {
			return nil, err
		}
		return w.await(ctx, "1")
	}

	t.Run("a 50 KB message is read", func(t *testing.T) {
		o, err := subscribeQuestion(t, 50_000)
		if err != nil {
			t.Fatalf("a 50 KB subscribe (under the 64 KiB limit) ended the socket: %v (close status %d)", err, websocket.CloseStatus(err))
		}
		t.Logf("a 50 KB subscribe was answered: %d messages, codes %v", o.Messages, o.Codes)
	})

	t.Run("a 100 KB message closes the socket", func(t *testing.T) {
		o, err := subscribeQuestion(t, 100_000)
		if status := websocket.CloseStatus(err); status != websocket.StatusMessageTooBig {
			if err == nil {
				t.Fatalf("a 100 KB subscribe was read and answered (%d messages, codes %v); the socket should close with 1009", o.Messages, o.Codes)
			}
			t.Fatalf("a 100 KB subscribe: %v (close status %d); want close status 1009", err, status)
		}
		t.Log("a 100 KB subscribe closed the socket with 1009")
	})

	// typenames sends a query of n __typename fields in a subscribe, and says how it ended: the
	// codes of its answer, or the socket's close status.
	typenames := func(t *testing.T, n int) (codes []string, closeStatus websocket.StatusCode, u usage) {
		s := sharedServer(t)
		s.settle(t)
		w := mustDialWS(t, s, wsOptions{ip: freshIP()})
		query := "{ " + strings.Repeat("__typename ", n) + "}"
		var err error
		var o *wsOutcome
		u = s.measure(t, func() {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			if err = w.subscribe(ctx, "1", query, nil); err == nil {
				o, err = w.await(ctx, "1")
			}
		})
		closeStatus = websocket.CloseStatus(err)
		if err != nil && closeStatus < 0 {
			s.discard() // still validating what it was sent
			t.Fatalf("%d __typename fields (%d KB): no answer in 3 s (%v); the server spent %s", n, len(query)>>10, err, u)
		}
		if o != nil {
			codes = o.Codes
		}
		return codes, closeStatus, u
	}

	t.Run("9,990 __typename fields", func(t *testing.T) {
		// 110 KB: over the message limit, so the socket may close (1009) before any parsing;
		// either way the server must spend next to nothing.
		codes, status, u := typenames(t, 9990)
		t.Logf("9,990 __typename fields: codes %v, close status %d; the server spent %s", codes, status, u)
		if !slices.Contains(codes, codeQueryTooLarge) && status != websocket.StatusMessageTooBig {
			t.Errorf("want %s or close status 1009; got codes %v, close status %d", codeQueryTooLarge, codes, status)
		}
		if u.CPU >= 100*time.Millisecond {
			t.Errorf("refusing it cost the server %v of CPU; want < 100 ms", u.CPU)
		}
	})

	t.Run("5,900 __typename fields", func(t *testing.T) {
		// 65 KB: within the message limit, so the query itself must be refused, cheaply.
		codes, status, u := typenames(t, 5900)
		t.Logf("5,900 __typename fields: codes %v, close status %d; the server spent %s", codes, status, u)
		if !slices.Contains(codes, codeQueryTooLarge) {
			t.Errorf("want %s; got codes %v, close status %d", codeQueryTooLarge, codes, status)
		}
		if u.CPU >= 100*time.Millisecond {
			t.Errorf("refusing it cost the server %v of CPU; want < 100 ms", u.CPU)
		}
	})
}

// TestWebsocketDuplicateID: a subscribe that reuses the id of an operation still running closes
// the socket with 4409 (graphql-transport-ws: "Subscriber for <id> already exists").
func TestWebsocketDuplicateID(t *testing.T) {
	s := sharedServer(t)
	warmIntrospection(t, s)
	w := mustDialWS(t, s, wsOptions{ip: freshIP()})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	// Both in one write: the second arrives while the first runs (~2.5 ms).
	if err := <-w.burst(func() error {
		if err := w.subscribe(ctx, "1", compactIntrospection, nil); err != nil {
			return err
		}
		return w.subscribe(ctx, "1", compactIntrospection, nil)
	}); err != nil {
		t.Fatal(err)
	}
	var got []string
	var err error
	for {
		var m wsMessage
		if m, err = w.read(ctx); err != nil {
			break
		}
		got = append(got, m.Type)
	}
	if status := websocket.CloseStatus(err); status != 4409 {
		t.Fatalf("two subscribes with id 1: the socket did not close with 4409 (got %v, close status %d, after messages %v)", err, status, got)
	}
	t.Logf("closed with 4409 after messages %v", got)
}
