//go:build abuse

package abuse

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// slowBodyHead is a POST /graphql that announces a 1,000-byte body.
func slowBodyHead(host string) string {
	return "POST /graphql HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
}

// slowBody is how one trickling connection ended: the response it got, or why none came, and when.
type slowBody struct {
	resp  *rawResponse
	err   error
	after time.Duration
}

// trickle opens a connection from ip, sends slowBodyHead and then one byte of the body a second
// until it has an answer (or 14 s pass).
func trickle(s *lawbotServer, ip net.IP) slowBody {
	conn, err := dialer(ip).Dial("tcp", s.host)
	if err != nil {
		return slowBody{err: err}
	}
	defer conn.Close()
	start := time.Now()
	if _, err := conn.Write([]byte(slowBodyHead(s.host))); err != nil {
		return slowBody{err: err, after: time.Since(start)}
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if _, err := conn.Write([]byte("{")); err != nil {
					return
				}
			}
		}
	}()
	conn.SetReadDeadline(start.Add(14 * time.Second))
	resp, err := readRaw(conn, start)
	return slowBody{resp: resp, err: err, after: time.Since(start)}
}

// TestSlowBodies: 300 connections from one address, each announcing a 1,000-byte body and
// sending a byte a second. With the defaults (--max-conns-per-client 64, --body-timeout 10s) the
// server closes all but 64 at once and answers those 408 REQUEST_TIMEOUT after 10 s; meanwhile
// other clients are served within 1 s, and afterwards its file descriptors are back where they
// were. (--burst 1000 keeps the rate limit out of it: every accepted request waits for its body.
// Only flags cc9d095 knew are given, so that the finding itself fails there.)
func TestSlowBodies(t *testing.T) {
	const conns, perClient = 300, 64
	s := sharedServer(t, "--burst", "1000")
	probe := newClient(t, freshIP())
	baseFDs := s.fds(t)

	attacker := freshIP()
	results := make([]slowBody, conns)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = trickle(s, attacker)
		}()
	}

	// Another client, during the attack.
	var probes []string
	probeFailed := false
	var slowProbe time.Duration
	for range 3 {
		time.Sleep(400 * time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		start := time.Now()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"healthz", nil)
		resp, err := probe.http.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != 200 {
				err = fmt.Errorf("HTTP %d", resp.StatusCode)
			}
		}
		healthz := time.Since(start)
		var r *gqlResult
		start = time.Now()
		if err == nil {
			r, err = probe.post(ctx, s, statuteQuery, nil)
			if err == nil && (r.Status != 200 || !strings.Contains(string(r.Data), "민법 제618조")) {
				err = fmt.Errorf("statute query: %s", r.brief())
			}
		}
		query := time.Since(start)
		cancel()
		slowProbe = max(slowProbe, healthz, query)
		if err != nil {
			probeFailed = true
			probes = append(probes, err.Error())
		} else {
			probes = append(probes, fmt.Sprintf("healthz %v, statute %v", healthz.Round(time.Millisecond), query.Round(time.Millisecond)))
		}
	}
	peakFDs := s.fds(t)
	wg.Wait()

	var refused, timedOut int
	var other []string
	var timeouts []time.Duration
	for _, r := range results {
		switch {
		case r.after < time.Second && (r.err != nil && !isTimeout(r.err) || r.resp != nil && (r.resp.Status == 429 || r.resp.Status == 503)):
			refused++
		case r.resp != nil && r.resp.Status == http.StatusRequestTimeout && r.resp.Code == "REQUEST_TIMEOUT" && r.after <= 13*time.Second:
			timedOut++
			timeouts = append(timeouts, r.after)
		case r.resp != nil:
			other = append(other, fmt.Sprintf("HTTP %d %s after %v", r.resp.Status, r.resp.Code, r.after.Round(time.Millisecond)))
		default:
			other = append(other, fmt.Sprintf("%v after %v", r.err, r.after.Round(time.Millisecond)))
		}
	}
	probe.http.CloseIdleConnections()
	afterFDs := s.fds(t)
	for deadline := time.Now().Add(3 * time.Second); afterFDs > baseFDs+10 && time.Now().Before(deadline); afterFDs = s.fds(t) {
		time.Sleep(100 * time.Millisecond)
	}
	sort.Slice(timeouts, func(i, j int) bool { return timeouts[i] < timeouts[j] })
	t.Logf("%d slow bodies from one address: %d closed at once, %d answered 408 REQUEST_TIMEOUT %s, %d otherwise",
		conns, refused, timedOut, span(timeouts), len(other))
	t.Logf("another client meanwhile: %s", strings.Join(probes, "; "))
	t.Logf("server fds: %d before, %d during, %d after", baseFDs, peakFDs, afterFDs)

	if len(other) > 0 {
		t.Errorf("%d connections ended neither closed at once nor with 408 REQUEST_TIMEOUT within 13 s, e.g. %s", len(other), other[0])
	}
	if refused < conns-perClient {
		t.Errorf("only %d of %d connections were closed at once; the cap is %d per client", refused, conns, perClient)
	}
	if timedOut == 0 {
		t.Error("no connection was answered 408 REQUEST_TIMEOUT")
	}
	if slowProbe >= time.Second || probeFailed {
		t.Errorf("another client was not served within 1 s during the attack: %s", strings.Join(probes, "; "))
	}
	if afterFDs > baseFDs+10 {
		t.Errorf("the server holds %d file descriptors after the attack, %d before", afterFDs, baseFDs)
	}
}

// span is "in 2.01–2.05 s" for sorted durations.
func span(ds []time.Duration) string {
	if len(ds) == 0 {
		return ""
	}
	return fmt.Sprintf("in %.2f–%.2f s", ds[0].Seconds(), ds[len(ds)-1].Seconds())
}

// TestRateLimitedBodyNotDrained: a client past its rate budget that announces a body and sends
// none gets 429 RATE_LIMITED with Connection: close within 1 s; the server does not wait to
// drain a body it will not read.
func TestRateLimitedBodyNotDrained(t *testing.T) {
	s := sharedServer(t)
	ip := freshIP()
	c := newClient(t, ip)
	limited := 0
	for range 40 {
		if r := c.mustPost(t, s, 5*time.Second, `{ __typename }`, nil); r.Status == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("40 quick requests from one address were never rate limited (burst 30)")
	}

	conn, err := dialer(ip).Dial("tcp", s.host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := conn.Write([]byte(slowBodyHead(s.host))); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(start.Add(time.Second))
	r, err := readRaw(conn, start)
	if err != nil {
		t.Fatalf("after %d of 40 requests were limited: a POST announcing 1,000 bytes and sending none got no answer in 1 s (%v)", limited, err)
	}
	t.Logf("after %d of 40 requests were limited: HTTP %d %s in %v, Connection: close %v", limited, r.Status, r.Code, r.After.Round(time.Millisecond), r.Close)
	if r.Status != http.StatusTooManyRequests || r.Code != codeRateLimited {
		t.Errorf("want 429 %s; got HTTP %d %q: %s", codeRateLimited, r.Status, r.Code, r.Body)
	}
	if !r.Close {
		t.Error("the 429 does not say Connection: close; the client would send the body for nothing")
	}
}
