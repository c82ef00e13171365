package graph_test

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/lawbot-kr/lawbot/graph"
)

// TestGraphiQLPage is the inline page, served when the binary has no web app build.
func TestGraphiQLPage(t *testing.T) {
	srv := httptest.NewServer(graph.GraphiQLHandlerFS("/graphql", fstest.MapFS{}))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	page := string(b)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("status %d, Content-Type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	// Offline: nothing is loaded from elsewhere; the page names no other site at all.
	if strings.Contains(page, "http://") || strings.Contains(page, "https://") {
		t.Error("the page contains an http(s) URL")
	}
	if m := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?\s*(https?:)?//`).FindString(page); m != "" {
		t.Errorf("the page loads %q from another site", m)
	}
	if m := regexp.MustCompile(`(?i)@import|url\(\s*["']?https?:`).FindString(page); m != "" {
		t.Errorf("the style loads %q", m)
	}
	for _, want := range []string{`content="/graphql"`, "전세 계약이 끝났는데 집주인이 보증금을 안 돌려줘요", "advice(question:",
		"adviceStream", "graphql-transport-ws", "text/event-stream", `id="variables"`, `id="run"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	// The CSP allows exactly the inline script and style, by hash, and nothing from elsewhere.
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "https:") {
		t.Errorf("CSP %q is not strict", csp)
	}
	for _, tag := range []string{"script", "style"} {
		m := regexp.MustCompile(`(?s)<`+tag+`>(.*?)</`+tag+`>`).FindAllStringSubmatch(page, -1)
		if len(m) != 1 {
			t.Fatalf("%d inline <%s> elements, want 1", len(m), tag)
		}
		sum := sha256.Sum256([]byte(m[0][1]))
		if h := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, tag+"-src "+h) {
			t.Errorf("CSP %q does not allow the inline %s (%s)", csp, tag, h)
		}
	}

	res, err = http.Post(srv.URL, "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", res.StatusCode)
	}
}

func TestGraphiQLEscapesEndpoint(t *testing.T) {
	rec := httptest.NewRecorder()
	graph.GraphiQLHandlerFS(`/x"><script>alert(1)</script>`, fstest.MapFS{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/graphiql", nil))
	if strings.Contains(rec.Body.String(), "<script>alert(1)") {
		t.Error("the endpoint is not escaped")
	}
	rec = httptest.NewRecorder()
	graph.GraphiQLHandlerFS(`/x"><script>alert(1)</script>`, bundledBuild).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/graphiql", nil))
	if strings.Contains(rec.Body.String(), "<script>alert(1)") {
		t.Error("the endpoint is not escaped in the bundled page")
	}
}

// bundledBuild stands in for ui/dist: the shape of the graphiql.html that Vite writes.
var bundledBuild = fstest.MapFS{"graphiql.html": {Data: []byte(`<!doctype html><html><head>
<meta name="graphql-endpoint" content="{{.Endpoint}}">
<script type="module" crossorigin src="/assets/graphiql-abc123.js"></script>
<link rel="stylesheet" crossorigin href="/assets/graphiql-abc123.css">
</head><body><div id="graphiql"></div></body></html>`)}}

// TestGraphiQLBundled: with a web app build, /graphiql is the bundled npm graphiql: scripts from
// this server only (no CDN, no inline script), the endpoint filled in.
func TestGraphiQLBundled(t *testing.T) {
	srv := httptest.NewServer(graph.GraphiQLHandlerFS("/graphql", bundledBuild))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	page := string(b)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("status %d, Content-Type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, want := range []string{`content="/graphql"`, `src="/assets/graphiql-abc123.js"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(page, "{{.Endpoint}}") {
		t.Error("the endpoint placeholder is left in the page")
	}
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self';", "connect-src 'self' ws://", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "https:") || strings.Contains(csp, "script-src 'self' 'unsafe-inline'") {
		t.Errorf("CSP %q is not strict", csp)
	}
	res, err = http.Post(srv.URL, "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", res.StatusCode)
	}
}

// TestGraphiQLHandlerServes: whatever the embedded build holds, /graphiql answers a page.
func TestGraphiQLHandlerServes(t *testing.T) {
	rec := httptest.NewRecorder()
	graph.GraphiQLHandler("/graphql").ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/graphiql", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `content="/graphql"`) {
		t.Errorf("status %d, body %.200q", rec.Code, rec.Body.String())
	}
}
