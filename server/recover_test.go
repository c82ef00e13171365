package server

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

func TestRecoverPanics(t *testing.T) {
	var logs bytes.Buffer
	mux := http.NewServeMux()
	mux.HandleFunc("/graphql", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("case") {
		case "panic":
			panic("index out of range in 민법 제618조 ranking")
		case "late":
			w.Write([]byte("partial"))
			panic("after the header")
		}
		w.Write([]byte("fine"))
	})
	s := New(Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), GraphQL: mux})

	rec := do(s.Handler(), "POST", "/graphql?case=panic", nil)
	if rec.Code != 500 {
		t.Fatalf("status %d, want 500", rec.Code)
	}
	if code := errorCode(t, rec.Body.Bytes()); code != CodeInternal {
		t.Errorf("code %q", code)
	}
	if strings.Contains(rec.Body.String(), "index out of range") {
		t.Error("the panic value leaked to the client")
	}
	assertContains(t, "log", logs.String(), "panic serving request", "index out of range", "goroutine")

	// The server keeps serving.
	if rec := do(s.Handler(), "POST", "/graphql", nil); rec.Code != 200 || rec.Body.String() != "fine" {
		t.Errorf("after a panic: %d %q", rec.Code, rec.Body)
	}
	// A panic after the header cannot change the status; the body is not corrupted by a second one.
	rec = do(s.Handler(), "POST", "/graphql?case=late", nil)
	if rec.Code != 200 || rec.Body.String() != "partial" {
		t.Errorf("late panic: %d %q", rec.Code, rec.Body)
	}
	assertContains(t, "/metrics", metricsText(t, s),
		`lawbot_errors_total{code="INTERNAL"} 2`,
		`lawbot_http_requests_total{path="/graphql",status="500"} 1`,
		`lawbot_http_requests_total{path="/graphql",status="200"} 2`)
}

// http.ErrAbortHandler is net/http's way to drop a connection; it must reach net/http.
func TestRecoverLetsAbortThrough(t *testing.T) {
	h := recoverPanics(quietLogger(), func(string) {}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic(http.ErrAbortHandler)
	}))
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", v)
		}
	}()
	do(h, "GET", "/graphql", nil)
	t.Error("ErrAbortHandler was swallowed")
}
