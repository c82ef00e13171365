package server

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// TestAccessLogNamesRoutesNotPaths sends paths through logAccess behind the redacting handler, as
// New does: our routes are logged as themselves, the web app's pages and assets as their prefix,
// and any other path as "(other)" and its length, never a character of it. The first paths are
// a probe's that got personal data past the redactor.
func TestAccessLogNamesRoutesNotPaths(t *testing.T) {
	tests := []struct{ path, route string }{
		{"/x/900101 1234567", otherRoute},
		{"/０１０-１２３４-５６７８", otherRoute},
		{"/hong(at)example.com", otherRoute},
		{"/집주인이-보증금을-안-돌려줘요", otherRoute},
		{"/contact/hong@example.com", otherRoute},
		{"/graphql/900101-1234567", otherRoute},
		{"/wp-login.php", otherRoute},
		{"/statute/민법 제618조", "/statute/*"},
		{"/statute/010-1234-5678", "/statute/*"},
		{"/precedent/2016다235411", "/precedent/*"},
		{"/assets/index-3f9a1c.js", "/assets/*"},
		{"/graphql", "/graphql"},
		{"/graphiql", "/graphiql"},
		{"/healthz", "/healthz"},
		{"/", "/"},
		{"/favicon.svg", "/favicon.svg"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			var logs strings.Builder
			h := logAccess(accessLogger(&logs), http.NotFoundHandler())
			req := httptest.NewRequest("GET", "/", nil)
			req.URL.Path = tt.path // as the server decodes it: spaces and Hangul included
			h.ServeHTTP(httptest.NewRecorder(), req)

			line := strings.TrimSpace(logs.String())
			fields := map[string]string{}
			for _, f := range strings.Fields(line) {
				k, v, _ := strings.Cut(f, "=")
				fields[k] = v
			}
			if fields["path"] != tt.route {
				t.Errorf("logged path %q, want %q: %s", fields["path"], tt.route, line)
			}
			if want := strconv.Itoa(len(tt.path)); tt.route == otherRoute && fields["path_bytes"] != want {
				t.Errorf("logged path_bytes %q, want %s: %s", fields["path_bytes"], want, line)
			}
			// The only digits the line may hold are counts: a path's digits are the 주민등록번호,
			// the phone number, the account; its Hangul the question; its "@"/"(at)" an address.
			rest := countsRe.ReplaceAllString(line, "")
			if strings.ContainsFunc(rest, func(r rune) bool {
				return unicode.IsDigit(r) || unicode.Is(unicode.Hangul, r) || r == '@' || r >= '！' && r <= '～'
			}) || strings.Contains(rest, "hong") || strings.Contains(rest, "example") {
				t.Errorf("access log carries the path: %s", line)
			}
		})
	}
}

// countsRe matches the access log's numeric fields.
var countsRe = regexp.MustCompile(` (status|bytes|path_bytes)=\d+`)

// accessLogger is the redacting logger New builds, writing text without the time and the
// duration (whose digits would hide a path's) and at Debug, where probes are logged.
func accessLogger(w *strings.Builder) *slog.Logger {
	return slog.New(NewRedactingHandler(slog.NewTextHandler(w, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "duration" {
				return slog.Attr{}
			}
			return a
		},
	})))
}
