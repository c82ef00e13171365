package server

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// quietLogger drops everything; tests that read the logs make their own.
func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// errorCode reads extensions.code from a GraphQL-shaped error body.
func errorCode(t *testing.T, body []byte) string {
	t.Helper()
	var b errorBody
	if err := json.Unmarshal(body, &b); err != nil || len(b.Errors) != 1 {
		t.Fatalf("body is not one coded error (%v): %s", err, body)
	}
	return b.Errors[0].Extensions.Code
}

// do sends a request through h and returns the recorded response.
func do(h http.Handler, method, target string, body io.Reader) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, body)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// metricsText scrapes /metrics.
func metricsText(t *testing.T, s *Server) string {
	t.Helper()
	rec := do(s.Handler(), "GET", "/metrics", nil)
	if rec.Code != 200 {
		t.Fatalf("/metrics: %d", rec.Code)
	}
	return rec.Body.String()
}

func assertContains(t *testing.T, what, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

func slogText(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
