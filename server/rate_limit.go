package server

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// rateLimiter keeps one token bucket per client. Buckets idle for longer than idle are swept
// on the way (at most once per idle/2), so memory follows the clients of the last minutes, not
// every address ever seen, without a goroutine to stop.
type rateLimiter struct {
	rate  rate.Limit
	burst int
	idle  time.Duration
	now   func() time.Time

	mu        sync.Mutex
	clients   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newRateLimiter(perSecond float64, burst int, idle time.Duration) *rateLimiter {
	return &rateLimiter{rate: rate.Limit(perSecond), burst: burst, idle: idle, now: time.Now,
		clients: map[string]*bucket{}}
}

// allow takes a token from the client's bucket; when there is none it says how long until one.
func (l *rateLimiter) allow(client string) (ok bool, retryAfter time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > l.idle/2 {
		for k, b := range l.clients {
			if now.Sub(b.seen) > l.idle {
				delete(l.clients, k)
			}
		}
		l.lastSweep = now
	}
	b := l.clients[client]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.rate, l.burst)}
		l.clients[client] = b
	}
	b.seen = now
	if b.lim.AllowN(now, 1) {
		return true, 0
	}
	r := b.lim.ReserveN(now, 1)
	defer r.CancelAt(now)
	return false, r.DelayFrom(now)
}

// size is the number of buckets held (for tests).
func (l *rateLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.clients)
}

// exemptFromRateLimit are the routes probes and scrapers call: a busy client must not make its
// own host look dead to Kubernetes or Prometheus.
var exemptFromRateLimit = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// limitRate answers 429 RATE_LIMITED with Retry-After (whole seconds, at least 1) when the
// client has spent its burst.
func limitRate(l *rateLimiter, clientKey func(*http.Request) string, onError func(code string), next http.Handler) http.Handler {
	if l == nil || l.rate < 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if exemptFromRateLimit[r.URL.Path] || strings.HasPrefix(r.URL.Path, "/assets/") {
			// /assets/ are the web app's hashed files, served from memory: one page load
			// fetches dozens (GraphiQL's editor is split into ~40), and they cost nothing.
			next.ServeHTTP(w, r)
			return
		}
		ok, wait := l.allow(clientKey(r))
		if !ok {
			onError(CodeRateLimited)
			secs := int(math.Ceil(wait.Seconds()))
			w.Header().Set("Retry-After", strconv.Itoa(max(1, secs)))
			// The body is never read: close instead of draining it (a client trickling its
			// body would otherwise hold the connection for as long as it likes).
			abandonBody(w)
			writeError(w, http.StatusTooManyRequests, CodeRateLimited,
				"too many requests; retry after "+strconv.Itoa(max(1, secs))+" s")
			return
		}
		next.ServeHTTP(w, r)
	})
}

type clientKey struct{}

// withClient puts the request's client key in its context, where the GraphQL layer finds it
// (ClientOf) to charge websocket operations and share out the advice workers.
func withClient(key func(*http.Request) string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientKey{}, key(r))))
	})
}

// ClientOf is the client a request's context belongs to (Options.ClientKey of the request),
// or "" outside a request.
func ClientOf(ctx context.Context) string {
	s, _ := ctx.Value(clientKey{}).(string)
	return s
}

// Charge takes one request from the budget of ctx's client, as the middleware does for each
// HTTP request; the GraphQL layer calls it for each operation a websocket starts. When the
// budget is spent it says how long until the next token.
func (s *Server) Charge(ctx context.Context) (ok bool, retryAfter time.Duration) {
	if s.limiter == nil || s.limiter.rate < 0 {
		return true, 0
	}
	ok, wait := s.limiter.allow(ClientOf(ctx))
	if !ok {
		s.RecordError(CodeRateLimited)
	}
	return ok, wait
}
