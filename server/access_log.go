package server

import (
	"log/slog"
	"net/http"
	"time"
)

// logAccess writes one structured line per request (at Debug for /healthz, /readyz and /metrics): method, route path, status, duration and
// bytes sent. Never the body or the query string — GraphQL GET requests carry the question
// there — and the path goes through the redacting handler like everything else.
func logAccess(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := wrap(w)
		start := time.Now()
		defer func() {
			level := slog.LevelInfo
			switch {
			case exemptFromRateLimit[r.URL.Path]:
				level = slog.LevelDebug // probes and scrapes, every few seconds: noise at Info
			case rw.statusCode() >= 500:
				level = slog.LevelError
			}
			log.LogAttrs(r.Context(), level, "request",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", rw.statusCode()),
				slog.Duration("duration", time.Since(start)),
				slog.Int64("bytes", rw.bytes),
			)
		}()
		next.ServeHTTP(rw, r)
	})
}
