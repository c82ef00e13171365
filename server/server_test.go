package server

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestHealthAndReadiness(t *testing.T) {
	s := New(Options{Logger: quietLogger()})
	h := s.Handler()
	if rec := do(h, "GET", "/healthz", nil); rec.Code != 200 || rec.Body.String() != "ok\n" {
		t.Errorf("/healthz: %d %q", rec.Code, rec.Body)
	}
	if rec := do(h, "GET", "/readyz", nil); rec.Code != 503 {
		t.Errorf("/readyz before SetReady: %d", rec.Code)
	}
	s.SetNotReady("building the search indexes")
	if rec := do(h, "GET", "/readyz", nil); rec.Code != 503 || !strings.Contains(rec.Body.String(), "building the search indexes") {
		t.Errorf("/readyz while loading: %d %q", rec.Code, rec.Body)
	}
	assertContains(t, "/metrics", metricsText(t, s), "lawbot_ready 0")
	s.SetReady(true)
	if rec := do(h, "GET", "/readyz", nil); rec.Code != 200 {
		t.Errorf("/readyz after SetReady(true): %d", rec.Code)
	}
	assertContains(t, "/metrics", metricsText(t, s), "lawbot_ready 1")
	s.SetReady(false)
	if rec := do(h, "GET", "/readyz", nil); rec.Code != 503 {
		t.Errorf("/readyz after SetReady(false): %d", rec.Code)
	}
}

func TestRoutes(t *testing.T) {
	graphiql := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<html>GraphiQL") })
	tests := []struct {
		name   string
		opts   Options
		method string
		path   string
		status int
		want   string
	}{
		{"no GraphQL handler", Options{}, "POST", "/graphql", 503, `"code":"UNAVAILABLE"`},
		{"GraphiQL", Options{GraphiQL: graphiql}, "GET", "/graphiql", 200, "GraphiQL"},
		{"root redirects to GraphiQL", Options{GraphiQL: graphiql}, "GET", "/", 302, ""},
		{"unknown page", Options{GraphiQL: graphiql}, "GET", "/wp-admin", 404, `"code":"NOT_FOUND"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Logger = quietLogger()
			rec := do(New(tt.opts).Handler(), tt.method, tt.path, nil)
			if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.want) {
				t.Errorf("%d %q, want %d with %q", rec.Code, rec.Body, tt.status, tt.want)
			}
		})
	}
}

func TestMetrics(t *testing.T) {
	s := New(Options{Logger: quietLogger(), GraphQL: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"data":{}}`)
	})})
	h := s.Handler()
	for range 3 {
		do(h, "POST", "/graphql", strings.NewReader(`{"query":"{__typename}"}`))
	}
	do(h, "GET", "/no/such/page/010-1234-5678", nil)
	s.Observe("STATUTES", 12*time.Millisecond)
	s.Observe("STATUTES", 30*time.Millisecond)
	s.RecordError("QUESTION_TOO_LONG")
	text := metricsText(t, s)
	assertContains(t, "/metrics", text,
		`lawbot_http_requests_total{path="/graphql",status="200"} 3`,
		`lawbot_http_requests_total{path="other",status="404"} 1`,
		`lawbot_http_request_duration_seconds_count{path="/graphql"} 3`,
		`lawbot_stage_duration_seconds_count{stage="STATUTES"} 2`,
		`lawbot_stage_duration_seconds_bucket{stage="STATUTES",le="0.025"} 1`,
		`lawbot_errors_total{code="QUESTION_TOO_LONG"} 1`,
		"lawbot_http_in_flight_requests 1", // the scrape itself
		"go_goroutines", "process_cpu_seconds_total",
	)
	if strings.Contains(text, "010-1234-5678") {
		t.Error("a raw path reached the metric labels")
	}
}

func TestAccessLogNeverCarriesTheQuery(t *testing.T) {
	var logs strings.Builder
	s := New(Options{Logger: slogText(&logs), GraphQL: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "{}")
	})})
	do(s.Handler(), "GET", "/graphql?query=%7Badvice(question%3A%22%EC%A0%84%EC%84%B8%22)%7D&variables=900101-1234567", nil)
	out := logs.String()
	assertContains(t, "access log", out, "msg=request", "method=GET", "path=/graphql", "status=200", "bytes=2", "duration=")
	for _, leak := range []string{"advice", "question", "900101", "%EC"} {
		if strings.Contains(out, leak) {
			t.Errorf("access log carries %q: %s", leak, out)
		}
	}
}

// serve starts s on a loopback port and returns its base URL and a stop function that returns
// Serve's error.
func serve(t *testing.T, s *Server) (url string, stop func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	return "http://" + ln.Addr().String(), func() error {
		cancel()
		return <-done
	}
}

func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	s := New(Options{Logger: quietLogger(), GraphQL: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "event: next\ndata: {\"stage\":\"LEGAL_CHECK\"}\n\n")
		w.(http.Flusher).Flush()
		close(started)
		<-release // a stream still running when the shutdown begins
		io.WriteString(w, "event: complete\n\n")
	})})
	url, stop := serve(t, s)
	s.SetReady(true)

	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Post(url+"/graphql", "application/json", strings.NewReader(`{}`))
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- result{string(b), err}
	}()
	<-started

	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	// The shutdown has begun once readiness drops; new connections are refused from then on.
	for ready, _ := s.Ready(); ready; ready, _ = s.Ready() {
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case err := <-stopped:
		t.Fatalf("Serve returned (%v) while a stream was in flight", err)
	default:
	}
	close(release)
	r := <-got
	if r.err != nil || !strings.HasSuffix(r.body, "event: complete\n\n") {
		t.Errorf("the stream did not finish: %v %q", r.err, r.body)
	}
	if err := <-stopped; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Error("the server still accepts connections after shutdown")
	}
}

func TestShutdownTimeout(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	s := New(Options{Logger: quietLogger(), ShutdownTimeout: 50 * time.Millisecond,
		GraphQL: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.(http.Flusher).Flush()
			select {
			case <-block:
			case <-r.Context().Done():
			}
		})})
	url, stop := serve(t, s)
	resp, err := http.Post(url+"/graphql", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := stop(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve: %v", err)
	}
}
