package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// dialFrom opens a TCP connection to addr from a given loopback address (127.0.0.0/8 is all
// loopback on Linux), so one test can be several clients.
func dialFrom(t *testing.T, from, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 2 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial from %s: %v", from, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedSoon says whether the server closed c within d (a read returns EOF or a reset).
func closedSoon(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := c.Read(make([]byte, 1))
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return false
	}
	return err != nil
}

func TestConnectionsCappedPerClient(t *testing.T) {
	s := New(Options{Logger: quietLogger(), MaxConnsPerClient: 3})
	url, stop := serve(t, s)
	t.Cleanup(func() { stop() }) // after the connections close (cleanups run last first)
	addr := strings.TrimPrefix(url, "http://")
	var held []net.Conn
	for range 3 {
		held = append(held, dialFrom(t, "127.0.0.2", addr))
	}
	for _, c := range held {
		if closedSoon(c, 100*time.Millisecond) {
			t.Fatal("a connection within the cap was closed")
		}
	}
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
	if over, err := d.Dial("tcp", addr); err == nil { // a reset may already fail the dial
		defer over.Close()
		if !closedSoon(over, 2*time.Second) {
			t.Fatal("the fourth connection from one address stayed open")
		}
	}
	// Another address is not affected, and answers.
	other := dialFrom(t, "127.0.0.3", addr)
	fmt.Fprintf(other, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(other), nil)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("another client: %v %v", res, err)
	}
	// A place is given back when a connection closes.
	held[0].Close()
	deadline := time.Now().Add(2 * time.Second)
	for s.conns.openConns() > 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if again := dialFrom(t, "127.0.0.2", addr); closedSoon(again, 200*time.Millisecond) {
		t.Error("no place after a connection closed")
	}
	assertContains(t, "/metrics", metricsText(t, s), `lawbot_errors_total{code="TOO_MANY_CONNECTIONS"} 1`)
}

func TestConnLimiterTotal(t *testing.T) {
	l := newConnLimiter(0, 2, nil)
	if !l.acquire("a") || !l.acquire("b") || l.acquire("c") {
		t.Fatal("the total cap of 2 did not hold")
	}
	l.release("a")
	if !l.acquire("c") || l.openConns() != 2 {
		t.Errorf("after a release: open %d", l.openConns())
	}
}

// A body that trickles in is cut off at BodyTimeout with 408, and the connection closed.
func TestSlowBodyTimesOut(t *testing.T) {
	reached := false
	s := New(Options{Logger: quietLogger(), BodyTimeout: 300 * time.Millisecond,
		GraphQL: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached = true })})
	url, stop := serve(t, s)
	defer stop()
	c := dialFrom(t, "127.0.0.2", strings.TrimPrefix(url, "http://"))
	start := time.Now()
	fmt.Fprintf(c, "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
	go func() {
		for range 20 {
			time.Sleep(100 * time.Millisecond)
			if _, err := c.Write([]byte(" ")); err != nil {
				return
			}
		}
	}()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusRequestTimeout || errorCode(t, body) != CodeRequestTimeout {
		t.Errorf("status %d body %s", res.StatusCode, body)
	}
	if !res.Close {
		t.Error("no Connection: close")
	}
	if !closedSoon(c, 2*time.Second) {
		t.Error("the connection stayed open after the 408")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("answered after %s (limit 300ms)", d)
	}
	if reached {
		t.Error("the handler saw a partial body")
	}
}

// A client over its rate gets its 429 at once, without the server waiting for (or draining)
// a body it will never read.
func TestRateLimitedBodyNotDrained(t *testing.T) {
	s := New(Options{Logger: quietLogger(), Rate: 1, Burst: 1,
		GraphQL: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})})
	url, stop := serve(t, s)
	defer stop()
	addr := strings.TrimPrefix(url, "http://")
	first := dialFrom(t, "127.0.0.2", addr)
	fmt.Fprintf(first, "GET /graphql HTTP/1.1\r\nHost: x\r\n\r\n")
	if _, err := http.ReadResponse(bufio.NewReader(first), nil); err != nil {
		t.Fatal(err)
	}
	c := dialFrom(t, "127.0.0.2", addr)
	start := time.Now()
	fmt.Fprintf(c, "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer while the body is pending: %v", err)
	}
	if res.StatusCode != http.StatusTooManyRequests || !res.Close {
		t.Errorf("status %d, Connection: close %v", res.StatusCode, res.Close)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("answered after %s", d)
	}
	if !closedSoon(c, 2*time.Second) {
		t.Error("the connection stayed open after the 429")
	}
}

// The request's client is in its context, and Charge spends the same budget as HTTP requests.
func TestChargeSharesTheRateBudget(t *testing.T) {
	var charged []bool
	var s *Server
	s = New(Options{Logger: quietLogger(), Rate: 1, Burst: 2,
		GraphQL: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if ClientOf(r.Context()) != "192.0.2.1" {
				t.Errorf("ClientOf = %q", ClientOf(r.Context()))
			}
			for range 2 {
				ok, _ := s.Charge(r.Context())
				charged = append(charged, ok)
			}
		})})
	req, _ := http.NewRequest("POST", "/graphql", strings.NewReader("{}"))
	req.RemoteAddr = "192.0.2.1:1234"
	rec := &recorder{h: http.Header{}}
	s.Handler().ServeHTTP(rec, req)
	// The request took one token, the first charge the second, the next charge finds none.
	if len(charged) != 2 || !charged[0] || charged[1] {
		t.Errorf("charges %v, want [true false]", charged)
	}
	if ClientOf(context.Background()) != "" {
		t.Error("ClientOf outside a request")
	}
}

// OnShutdown runs when the graceful shutdown begins, while requests may still be in flight.
func TestOnShutdownCalled(t *testing.T) {
	called := make(chan struct{})
	s := New(Options{Logger: quietLogger(), OnShutdown: func() { close(called) }})
	_, stop := serve(t, s)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-called:
	case <-time.After(time.Second):
		t.Fatal("OnShutdown was not called")
	}
}

type recorder struct {
	h    http.Header
	code int
}

func (r *recorder) Header() http.Header         { return r.h }
func (r *recorder) WriteHeader(c int)           { r.code = c }
func (r *recorder) Write(p []byte) (int, error) { return len(p), nil }
