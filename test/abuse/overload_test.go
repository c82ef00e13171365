//go:build abuse

package abuse

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const codeOverloaded = "OVERLOADED"

// refusalCodes are the answers that tell a flooding client to back off.
var refusalCodes = []string{codeOverloaded, codeRateLimited, codeTooManyOperations}

// Attack shape: per attacking address, socketsPerIP websockets each keeping opsPerSocket
// adviceStream subscriptions of 2,000 characters running, and httpLoopsPerIP loops of advice
// queries. A refused operation is retried after refusalBackoff: without it the test process
// would itself take the CPU the victim needs, on the machine it shares with the server.
const (
	socketsPerIP   = 2
	opsPerSocket   = 8
	httpLoopsPerIP = 2
	refusalBackoff = 100 * time.Millisecond
)

// attack floods the advice pipeline from several addresses and counts how it is answered.
type attack struct {
	s        *lawbotServer
	question map[string]any
	cancel   context.CancelFunc
	wg       sync.WaitGroup

	mu           sync.Mutex
	ran          int            // operations that ran to their end
	refused      map[string]int // refusals by code (refusalCodes)
	other        map[string]int // any other error or failure, by code or description
	badRetry     []string       // OVERLOADED answers without retryAfter ≥ 1 (and over HTTP a Retry-After)
	slowOverload time.Duration  // the slowest OVERLOADED answer over HTTP
}

func startAttack(t *testing.T, s *lawbotServer, ips []net.IP) *attack {
	ctx, cancel := context.WithCancel(context.Background())
	a := &attack{s: s, question: map[string]any{"q": longQuestion(2000)}, cancel: cancel,
		refused: map[string]int{}, other: map[string]int{}}
	for _, ip := range ips {
		for range socketsPerIP {
			a.wg.Add(1)
			go a.runSocket(ctx, ip)
		}
		c := newClient(t, ip)
		for range httpLoopsPerIP {
			a.wg.Add(1)
			go a.runHTTP(ctx, c)
		}
	}
	return a
}

// stop ends the attack and waits for its clients to go.
func (a *attack) stop() {
	a.cancel()
	a.wg.Wait()
}

// record counts one finished operation by its codes and says whether it was refused.
func (a *attack) record(codes []string) (refused bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, c := range codes {
		if slices.Contains(refusalCodes, c) {
			a.refused[c]++
			return true
		}
	}
	if len(codes) > 0 {
		a.other[codes[0]]++
		return true
	}
	a.ran++
	return false
}

func (a *attack) note(problem string) {
	a.mu.Lock()
	a.other[problem]++
	a.mu.Unlock()
}

func (a *attack) summary() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return fmt.Sprintf("%d operations ran, refused %v, other %v", a.ran, a.refused, a.other)
}

func (a *attack) totalRefused() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, v := range a.refused {
		n += v
	}
	return n
}

// runSocket keeps a websocket from ip busy, reconnecting when the server closes it.
func (a *attack) runSocket(ctx context.Context, ip net.IP) {
	defer a.wg.Done()
	for ctx.Err() == nil {
		w, err := dialWS(ctx, a.s, wsOptions{ip: ip})
		if err != nil {
			if ctx.Err() == nil {
				a.note("websocket dial failed")
				sleepCtx(ctx, refusalBackoff)
			}
			continue
		}
		a.drive(ctx, w)
		w.c.CloseNow()
	}
}

// drive keeps opsPerSocket subscriptions running on w: one that ends is replaced at once, one
// that was refused after refusalBackoff. It returns when the socket fails or ctx ends.
func (a *attack) drive(ctx context.Context, w *wsConn) {
	var next atomic.Int64
	subscribe := func() {
		if ctx.Err() == nil {
			w.subscribe(ctx, strconv.FormatInt(next.Add(1), 10), streamQuery, a.question)
		}
	}
	for range opsPerSocket {
		subscribe()
	}
	codes := map[string][]string{}
	for {
		m, err := w.read(ctx)
		if err != nil {
			if ctx.Err() == nil {
				a.note("websocket closed")
			}
			return
		}
		switch {
		case m.Type == "ping":
			w.send(ctx, wsMessage{Type: "pong"})
			continue
		case m.ID == "":
			continue
		}
		codes[m.ID] = append(codes[m.ID], m.codes()...)
		if m.Type == "error" && slices.Contains(m.codes(), codeOverloaded) && m.retryAfter() < 1 {
			a.mu.Lock()
			a.badRetry = append(a.badRetry, "websocket error without extensions.retryAfter")
			a.mu.Unlock()
		}
		if !m.ends() {
			continue
		}
		refused := a.record(codes[m.ID])
		delete(codes, m.ID)
		if refused {
			time.AfterFunc(refusalBackoff, subscribe)
		} else {
			subscribe()
		}
	}
}

// runHTTP asks for advice over HTTP in a loop.
func (a *attack) runHTTP(ctx context.Context, c *client) {
	defer a.wg.Done()
	const query = `query($q: String!) { advice(question: $q) { question answer { text } } }`
	for ctx.Err() == nil {
		r, err := c.post(ctx, a.s, query, a.question)
		if err != nil {
			if ctx.Err() == nil {
				a.note("HTTP request failed")
				sleepCtx(ctx, refusalBackoff)
			}
			continue
		}
		if r.hasCode(codeOverloaded) {
			a.mu.Lock()
			a.slowOverload = max(a.slowOverload, r.Elapsed)
			header, _ := strconv.Atoi(r.Header.Get("Retry-After"))
			ext := 0
			for _, e := range r.Errors {
				if v, ok := e.Extensions["retryAfter"].(float64); ok {
					ext = max(ext, int(v))
				}
			}
			if header < 1 || ext < 1 {
				a.badRetry = append(a.badRetry, fmt.Sprintf("HTTP OVERLOADED with Retry-After %q, extensions.retryAfter %d", r.Header.Get("Retry-After"), ext))
			}
			a.mu.Unlock()
		}
		if a.record(r.codes()) {
			sleepCtx(ctx, refusalBackoff)
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// TestPipelineOverload: while 8 other addresses flood the advice pipeline (websockets full of
// 2,000-character adviceStream subscriptions, and advice queries over HTTP), a victim asking
// one short question at a time is answered about as fast as on an idle server (p50 ≤ 2 × idle
// + 25 ms) and never refused; the flood is refused (OVERLOADED, RATE_LIMITED or
// TOO_MANY_OPERATIONS), quickly and with a retryAfter.
func TestPipelineOverload(t *testing.T) {
	const asks = 20
	const attackFor = 8 * time.Second
	s := sharedServer(t)
	s.settle(t)
	victim := newClient(t, net.IPv4(127, 0, 0, 2))
	vars := map[string]any{"q": adviceQuestion}
	// ask sends n advice queries one after another, 150 ms apart (well within the victim's own
	// rate budget), for at most 6 s, and returns the latencies of the answered ones and the
	// rest's refusals.
	ask := func(n int) (latencies []time.Duration, refusals []string) {
		for deadline := time.Now().Add(6 * time.Second); n > 0 && time.Now().Before(deadline); n-- {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			r, err := victim.post(ctx, s, victimQuery, vars)
			cancel()
			switch {
			case err != nil:
				refusals = append(refusals, err.Error())
			case r.Status != 200 || len(r.Errors) > 0 || len(r.Data) < 10:
				refusals = append(refusals, r.brief())
			default:
				latencies = append(latencies, r.Elapsed)
			}
			time.Sleep(150 * time.Millisecond)
		}
		return latencies, refusals
	}

	ask(2) // warm the victim's connection
	idle, refusedIdle := ask(asks)
	if len(refusedIdle) > 0 {
		t.Fatalf("the victim was refused on an idle server: %v", refusedIdle)
	}

	var attackers []net.IP
	for i := range 8 {
		attackers = append(attackers, net.IPv4(127, 0, 0, byte(10+i)))
	}
	start := time.Now()
	cpu0 := s.cpu(t)
	a := startAttack(t, s, attackers)
	time.Sleep(1500 * time.Millisecond)
	during, refusedDuring := ask(asks)
	if rest := attackFor - time.Since(start); rest > 0 {
		time.Sleep(rest)
	}
	a.stop()
	attackCPU := s.cpu(t) - cpu0
	took := time.Since(start)
	s.settle(t)

	idleP50, duringP50 := median(idle), median(during)
	limit := 2*idleP50 + 25*time.Millisecond
	t.Logf("victim p50: %.1f ms idle (%d asks), %.1f ms under attack (%d answered, %d refused; limit %.1f ms)",
		ms(idleP50), len(idle), ms(duringP50), len(during), len(refusedDuring), ms(limit))
	t.Logf("attack from %d addresses for %v: %s; the server used %.1f s of CPU (%.0f%% of a core); slowest HTTP OVERLOADED %v",
		len(attackers), took.Round(100*time.Millisecond), a.summary(), attackCPU.Seconds(), 100*attackCPU.Seconds()/took.Seconds(), a.slowOverload.Round(time.Millisecond))

	if len(refusedDuring) > 0 {
		t.Errorf("the victim was refused %d times under attack, e.g. %s", len(refusedDuring), refusedDuring[0])
	}
	if len(during) > 0 && duringP50 > limit {
		t.Errorf("the victim's p50 under attack is %.1f ms; want ≤ 2 × %.1f + 25 = %.1f ms", ms(duringP50), ms(idleP50), ms(limit))
	}
	if a.totalRefused() == 0 {
		t.Errorf("no attack operation was refused with any of %v", refusalCodes)
	}
	if len(a.badRetry) > 0 {
		t.Errorf("%d OVERLOADED answers without a usable retryAfter, e.g. %s", len(a.badRetry), a.badRetry[0])
	}
	if a.slowOverload >= time.Second {
		t.Errorf("an OVERLOADED answer took %v; want < 1 s", a.slowOverload)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
