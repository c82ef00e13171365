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

	"github.com/lawbot-kr/lawbot/graph"
)

func TestGraphiQLPage(t *testing.T) {
	srv := httptest.NewServer(graph.GraphiQLHandler("/graphql"))
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
	graph.GraphiQLHandler(`/x"><script>alert(1)</script>`).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/graphiql", nil))
	if strings.Contains(rec.Body.String(), "<script>alert(1)") {
		t.Error("the endpoint is not escaped")
	}
}
