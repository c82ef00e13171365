package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestBenchEndpoint(t *testing.T) {
	tests := []struct{ addr, want, err string }{
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080/graphql", ""},
		{"127.0.0.1:8080", "http://127.0.0.1:8080/graphql", ""},
		{"https://localhost:8443/", "https://localhost:8443/graphql", ""},
		{"http://[::1]:8080/graphql?x=1", "http://[::1]:8080/graphql", ""},
		{"http://127.0.0.2:9000", "http://127.0.0.2:9000/graphql", ""},
		{"http://10.0.0.5:8080", "", "only targets loopback"},
		{"http://example.com", "", "only targets loopback"},
		{"http://localhost.example.com", "", "only targets loopback"},
		{"ftp://127.0.0.1", "", "want an http or https URL"},
	}
	for _, tt := range tests {
		got, err := Endpoint(tt.addr)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Endpoint(%q) = %q, %v; want an error with %q", tt.addr, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Endpoint(%q) = %q, %v; want %q", tt.addr, got, err, tt.want)
		}
	}
}

func TestBenchSummary(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	s := Summary(ds)
	if s.P50 != 50 || s.P99 != 99 || s.Max != 100 || s.Mean != 50.5 {
		t.Errorf("summary %+v", s)
	}
	if s := Summary(nil); s != (Latency{}) {
		t.Errorf("empty summary %+v", s)
	}
}

// testQuestions are questions of the filter's dev set, for loads against test servers.
var testQuestions = []string{
	"전세 계약이 끝났는데 집주인이 보증금을 안 돌려줘요.",
	"회사에서 퇴직금을 못 받았는데 어떻게 해야 하나요?",
}

// closedAddr is a loopback address nothing listens on: a listener opened and closed again.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestBenchLoadStopsWhenRefused: against a port that refuses, the load backs off and stops with
// SERVER_GONE after --gone-after instead of spinning through failed dials.
func TestBenchLoadStopsWhenRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	endpoint := "http://" + closedAddr(t) + "/graphql"
	load := Load{Client: &http.Client{}, Endpoint: endpoint, Questions: testQuestions,
		N: MaxN, C: 8, GoneAfter: time.Second}
	res, err := load.Run(ctx)
	var gone *ServerGoneError
	if !errors.As(err, &gone) {
		t.Fatalf("run: %v (ctx: %v), want a server-gone error", err, ctx.Err())
	}
	want := "SERVER_GONE: the server at " + endpoint + " went away (connection refused) after 0 requests"
	if err.Error() != want || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("run: %q, want %q wrapping ECONNREFUSED", err, want)
	}
	// 8 workers backing off from 50 ms for a second: about 6 dials each, not thousands.
	if res.requests == 0 || res.requests >= 200 || res.errorsByCode["TRANSPORT"] != res.requests {
		t.Errorf("%d attempts, errors %v; want a few TRANSPORT errors", res.requests, res.errorsByCode)
	}
}

// TestBenchLoadServerDiesMidway: a server that answers for a while and then closes; the report
// names the requests answered before it went.
func TestBenchLoadServerDiesMidway(t *testing.T) {
	var answered atomic.Int64
	enough := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"data":{"advice":{"legal":{"isLegal":true}}}}`)
		if answered.Add(1) == 50 {
			once.Do(func() { close(enough) })
		}
	}))
	go func() {
		<-enough
		srv.Close()
	}()
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	load := Load{Client: client, Endpoint: srv.URL + "/graphql", Questions: testQuestions,
		N: MaxN, C: 4, GoneAfter: time.Second}
	res, err := load.Run(ctx)
	var gone *ServerGoneError
	if !errors.As(err, &gone) {
		t.Fatalf("run: %v (ctx: %v), want a server-gone error", err, ctx.Err())
	}
	// The server may count an answer more than the load: one it wrote as Close dropped the
	// connection.
	if n := int(answered.Load()); gone.Answered != res.answered || res.answered < 50 || res.answered > n {
		t.Errorf("answered: error %d, report %d, want 50 ≤ report ≤ the server's %d", gone.Answered, res.answered, n)
	}
	if want := fmt.Sprintf("went away (%s) after %d requests", gone.Cause, res.answered); !strings.Contains(err.Error(), want) {
		t.Errorf("run: %q, want %q", err, want)
	}
	if res.nonLegal != 0 || res.errors != res.requests-res.answered || res.errors >= 200 {
		t.Errorf("%d requests, %d answered, %d errors %v, %d not legal", res.requests, res.answered, res.errors, res.errorsByCode, res.nonLegal)
	}
}

// TestBenchAdviceServerGone: the command prints what it measured and exits non-zero with the
// coded error.
func TestBenchServerGone(t *testing.T) {
	post := func(err error) error { return &url.Error{Op: "Post", URL: "http://127.0.0.1:8080/graphql", Err: err} }
	dial := func(err error) error { return post(&net.OpError{Op: "dial", Net: "tcp", Err: err}) }
	tests := []struct {
		err   error
		cause string // "": not gone
	}{
		{dial(os.NewSyscallError("connect", syscall.ECONNREFUSED)), "connection refused"},
		{post(&net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}), "connection reset"},
		{post(&net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", syscall.EPIPE)}), "connection closed"},
		{post(io.EOF), "connection closed"},
		{fmt.Errorf("read body: %w", io.ErrUnexpectedEOF), "connection closed"},
		{dial(errors.New("i/o timeout")), "cannot connect"},
		{nil, ""},
		{post(context.DeadlineExceeded), ""},
		{errors.New("HTTP 503 Service Unavailable"), ""},
		{errors.New("unreadable response: <html>"), ""},
	}
	for _, tt := range tests {
		cause, gone := serverGone(tt.err)
		if cause != tt.cause || gone != (tt.cause != "") {
			t.Errorf("serverGone(%v) = %q, %v; want %q", tt.err, cause, gone, tt.cause)
		}
	}
}
