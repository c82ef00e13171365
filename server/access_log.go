package server

import (
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// logAccess writes one structured line per request (at Debug for /healthz, /readyz and /metrics): method, route, status, duration and
// bytes sent. Never the body or the query string — GraphQL GET requests carry the question
// there — and never the raw path either: see accessRoute.
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
			route, known := accessRoute(r.URL.Path)
			attrs := []slog.Attr{slog.String("method", r.Method), slog.String("path", route)}
			if !known {
				// The length tells a scanner's probe from a pasted question without saying
				// what either was.
				attrs = append(attrs, slog.Int("path_bytes", len(r.URL.Path)))
			}
			attrs = append(attrs,
				slog.Int("status", rw.statusCode()),
				slog.Duration("duration", time.Since(start)),
				slog.Int64("bytes", rw.bytes),
			)
			log.LogAttrs(r.Context(), level, "request", attrs...)
		}()
		next.ServeHTTP(rw, r)
	})
}

// otherRoute stands in for every path that is not one of ours.
const otherRoute = "(other)"

// accessExactRoutes are the mux's routes and the web app's fixed files (ui/handler.go).
var accessExactRoutes = map[string]bool{
	"/graphql": true, "/graphiql": true, "/healthz": true, "/readyz": true, "/metrics": true, "/models": true, "/": true,
	"/index.html": true, "/favicon.svg": true, "/robots.txt": true,
}

// accessPrefixRoutes are the routes whose tail is the user's: hashed assets, and the web app's
// shareable pages (ui/handler.go appRoutes), whose tail is a statute id or a case number today
// but is whatever the person typed into the address bar tomorrow.
var accessPrefixRoutes = []string{"/assets/", "/statute/", "/precedent/"}

// accessRoute is what the access log says for path: the route it belongs to, with "*" for a
// user-chosen tail, or otherRoute. The redactor only knows the shapes of personal data, and a
// path can carry anything — a 주민등록번호 written with a space, full-width digits, "hong(at)…",
// or the whole question in Hangul — so no character of an unknown path is logged at all.
func accessRoute(path string) (route string, known bool) {
	if accessExactRoutes[path] {
		return path, true
	}
	for _, p := range accessPrefixRoutes {
		if strings.HasPrefix(path, p) {
			return p + "*", true
		}
	}
	return otherRoute, false
}
