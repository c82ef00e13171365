package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// chunked hides its length, as a client streaming a body without Content-Length does.
type chunked struct{ io.Reader }

func TestLimitBody(t *testing.T) {
	const max = 1024
	small := `{"query":"{ advice(question: \"전세 보증금을 돌려받지 못했어요\") { question } }"}`
	big := `{"query":"` + strings.Repeat("가", max) + `"}`
	tests := []struct {
		name        string
		body        io.Reader
		max         int64
		status      int
		handlerRead string // what the handler must have read; "" when it must not run
	}{
		{"small body with Content-Length", strings.NewReader(small), max, 200, small},
		{"small body without Content-Length", chunked{strings.NewReader(small)}, max, 200, small},
		{"exactly the limit", strings.NewReader(strings.Repeat("a", max)), max, 200, strings.Repeat("a", max)},
		{"large body with Content-Length", strings.NewReader(big), max, 413, ""},
		{"large body without Content-Length", chunked{strings.NewReader(big)}, max, 413, ""},
		{"multi-megabyte body", chunked{strings.NewReader(strings.Repeat("x", 8<<20))}, max, 413, ""},
		{"no limit", strings.NewReader(big), -1, 200, big},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var read string
			ran := false
			h := limitBody(tt.max, time.Second, func(string) {}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ran = true
				b, err := io.ReadAll(r.Body)
				if err != nil {
					t.Errorf("handler read: %v", err)
				}
				read = string(b)
			}))
			req := httptest.NewRequest("POST", "/graphql", tt.body)
			if _, ok := tt.body.(chunked); ok {
				req.ContentLength = -1
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.status == 413 {
				if ran {
					t.Error("the handler ran on a body over the limit")
				}
				if code := errorCode(t, rec.Body.Bytes()); code != CodeRequestTooLarge {
					t.Errorf("code %q", code)
				}
				assertContains(t, "message", rec.Body.String(), strconv.Itoa(max)+" bytes")
				return
			}
			if read != tt.handlerRead {
				t.Errorf("handler read %d bytes, want %d", len(read), len(tt.handlerRead))
			}
		})
	}
}

// A body that lies about its length cannot get past the limit either.
func TestLimitBodyUnderstatedLength(t *testing.T) {
	var n int
	reached := false
	h := limitBody(10, time.Second, func(string) {}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached = true
		b, _ := io.ReadAll(r.Body)
		n = len(b)
	}))
	req := httptest.NewRequest("POST", "/graphql", strings.NewReader(strings.Repeat("a", 100)))
	req.ContentLength = 5
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if reached || n > 10 {
		t.Errorf("the handler was reached and read %d bytes through a 10-byte limit", n)
	}
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", rec.Code)
	}
}

// Through the whole server the 413 is counted under its code.
func TestServerBodyLimitCounted(t *testing.T) {
	s := New(Options{Logger: quietLogger(), MaxBodyBytes: 100, GraphQL: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("GraphQL handler reached")
	})})
	rec := do(s.Handler(), "POST", "/graphql", strings.NewReader(strings.Repeat("a", 200)))
	if rec.Code != 413 {
		t.Fatalf("status %d", rec.Code)
	}
	assertContains(t, "/metrics", metricsText(t, s),
		`lawbot_errors_total{code="REQUEST_TOO_LARGE"} 1`,
		`lawbot_http_requests_total{path="/graphql",status="413"} 1`)
}
