package ui_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/lawbot-kr/lawbot/ui"
)

// build is a small stand-in for ui/dist, written for the test.
var build = fstest.MapFS{
	"index.html":          {Data: []byte(`<!doctype html><title>LawBot</title><script type="module" src="/assets/app-1a2b.js"></script>`)},
	"assets/app-1a2b.js":  {Data: []byte(strings.Repeat("console.log('법률');\n", 200))},
	"assets/app-1a2b.css": {Data: []byte("body{color:#111}")},
	"favicon.svg":         {Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)},
	"graphiql.html":       {Data: []byte(`<!doctype html>`)},
}

func get(t *testing.T, h http.Handler, method, path string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestHandlerRoutes(t *testing.T) {
	h := ui.HandlerFS(build)
	cases := []struct {
		name, method, path string
		status             int
		body, cache        string
	}{
		{"the app", "GET", "/", 200, "<title>LawBot", "no-cache"},
		{"a shared statute", "GET", "/statute/%EB%AF%BC%EB%B2%95%20%EC%A0%9C618%EC%A1%B0", 200, "<title>LawBot", "no-cache"},
		{"a shared precedent", "GET", "/precedent/98%EB%8B%A48554", 200, "<title>LawBot", "no-cache"},
		{"a hashed asset", "GET", "/assets/app-1a2b.css", 200, "body{color", "public, max-age=31536000, immutable"},
		{"the icon", "GET", "/favicon.svg", 200, "<svg", "public, max-age=86400"},
		{"a missing asset", "GET", "/assets/nope.js", 404, "", ""},
		{"a path outside the app", "GET", "/wp-admin", 404, "", ""},
		{"an empty statute route", "GET", "/statute/", 404, "", ""},
		{"HEAD", "HEAD", "/", 200, "", "no-cache"},
		{"POST", "POST", "/", 405, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := get(t, h, c.method, c.path)
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d", rec.Code, c.status)
			}
			if c.body != "" && !strings.Contains(rec.Body.String(), c.body) {
				t.Errorf("body %.80q lacks %q", rec.Body.String(), c.body)
			}
			if got := rec.Header().Get("Cache-Control"); got != c.cache && c.cache != "" {
				t.Errorf("Cache-Control %q, want %q", got, c.cache)
			}
			csp := rec.Header().Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'self'", "script-src 'self';", "connect-src 'self' ws://example.com", "frame-ancestors 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("CSP %q lacks %q", csp, want)
				}
			}
			if strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "script-src 'self' 'unsafe-inline'") {
				t.Errorf("CSP %q is not strict", csp)
			}
			if rec.Header().Get("Referrer-Policy") != "no-referrer" {
				t.Error("a shared URL's question could leak through the referrer")
			}
		})
	}
}

func TestHandlerGzip(t *testing.T) {
	h := ui.HandlerFS(build)
	rec := get(t, h, "GET", "/assets/app-1a2b.js", "Accept-Encoding", "gzip, br")
	if rec.Header().Get("Content-Encoding") != "gzip" || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/javascript") {
		t.Fatalf("headers %v", rec.Header())
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(zr)
	if string(b) != string(build["assets/app-1a2b.js"].Data) {
		t.Error("the gzipped asset differs from the file")
	}
	if rec := get(t, h, "GET", "/assets/app-1a2b.js"); rec.Header().Get("Content-Encoding") != "" || rec.Body.Len() != len(build["assets/app-1a2b.js"].Data) {
		t.Error("a client without gzip got a gzipped body")
	}
}

func TestHandlerNotBuilt(t *testing.T) {
	rec := get(t, ui.HandlerFS(fstest.MapFS{}), "GET", "/")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "make ui") {
		t.Errorf("status %d, body %.200q", rec.Code, rec.Body.String())
	}
}

func TestEmbeddedCompiles(t *testing.T) {
	// On a clean clone only dist/.keep is embedded; after make ui the app is.
	if ui.Built() != ui.HasFile(ui.Dist(), "index.html") {
		t.Error("Built disagrees with the embedded files")
	}
	if rec := get(t, ui.Handler(), "GET", "/"); rec.Code != 200 {
		t.Errorf("status %d", rec.Code)
	}
}
