package server

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// fakeClock is a clock the test moves by hand, so no test sleeps or depends on timing.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newTestLimiter(rate float64, burst int) (*rateLimiter, *fakeClock) {
	clock := &fakeClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	l := newRateLimiter(rate, burst, time.Minute)
	l.now = clock.now
	return l, clock
}

func TestRateLimit(t *testing.T) {
	l, clock := newTestLimiter(1, 3)
	var limited []string
	h := limitRate(l, remoteIP, func(code string) { limited = append(limited, code) },
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	send := func(path, client string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", path, nil)
		req.RemoteAddr = client + ":40000"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	const a, b = "192.0.2.1", "192.0.2.2"

	for i := range 3 {
		if rec := send("/graphql", a); rec.Code != 200 {
			t.Fatalf("request %d within the burst: %d", i+1, rec.Code)
		}
	}
	rec := send("/graphql", a)
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("request after the burst: %d, want 429", rec.Code)
	}
	if code := errorCode(t, rec.Body.Bytes()); code != CodeRateLimited {
		t.Errorf("code %q", code)
	}
	if got := rec.Header().Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After %q, want 1", got)
	}
	if len(limited) != 1 || limited[0] != CodeRateLimited {
		t.Errorf("onError calls %v", limited)
	}

	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/assets/app-1a2b.js"} {
		if rec := send(path, a); rec.Code != 200 {
			t.Errorf("%s limited: %d", path, rec.Code)
		}
	}
	if rec := send("/graphql", b); rec.Code != 200 {
		t.Errorf("another client shares the bucket: %d", rec.Code)
	}

	clock.advance(time.Second)
	if rec := send("/graphql", a); rec.Code != 200 {
		t.Errorf("a second later a token is back, got %d", rec.Code)
	}
	if rec := send("/graphql", a); rec.Code != 429 {
		t.Errorf("only one token came back, got %d", rec.Code)
	}
}

func TestRateLimitRetryAfterRoundsUp(t *testing.T) {
	l, _ := newTestLimiter(0.2, 1) // one token every 5 s
	if ok, _ := l.allow("c"); !ok {
		t.Fatal("first request refused")
	}
	ok, wait := l.allow("c")
	if ok || wait != 5*time.Second {
		t.Errorf("allow = %v, wait %s; want refused, 5s", ok, wait)
	}
	// A refused request does not spend a token it never got.
	ok, wait = l.allow("c")
	if ok || wait != 5*time.Second {
		t.Errorf("second refusal: wait %s, want 5s", wait)
	}
}

func TestRateLimitSweepsIdleBuckets(t *testing.T) {
	l, clock := newTestLimiter(1, 1)
	for _, c := range []string{"a", "b", "c"} {
		l.allow(c)
	}
	if n := l.size(); n != 3 {
		t.Fatalf("%d buckets, want 3", n)
	}
	clock.advance(2 * time.Minute)
	l.allow("d")
	if n := l.size(); n != 1 {
		t.Errorf("%d buckets after the idle ones expired, want 1", n)
	}
}
