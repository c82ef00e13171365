package graph

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"html"
	"io/fs"
	"net/http"
	"net/url"
	"strings"

	"github.com/lawbot-kr/lawbot/ui"
)

// The GraphiQL page never loads anything from a CDN: that fails offline and would tell a third
// party that someone is asking LawBot something. The page is the npm graphiql package bundled
// by the web app's build (ui/dist/graphiql.html, its scripts under /assets/ served by ui.Handler);
// a binary built before the web app falls back to the small inline page below, where the
// Content-Security-Policy allows exactly the inline script and style (by hash).
var (
	//go:embed graphiql/page.html
	graphiqlHTML string
	//go:embed graphiql/page.css
	graphiqlCSS string
	//go:embed graphiql/page.js
	graphiqlJS string
)

// GraphiQLHandler serves the offline query page for endpoint (e.g. "/graphql") from the embedded
// web app build (see GraphiQLHandlerFS).
func GraphiQLHandler(endpoint string) http.Handler {
	return GraphiQLHandlerFS(endpoint, ui.Dist())
}

// GraphiQLHandlerFS serves GraphiQL for endpoint: the bundled npm graphiql when fsys has
// graphiql.html (queries over POST, subscriptions over graphql-transport-ws, a default query
// showing off advice), else the inline page (an editor, a variables box, Run, and a live
// adviceStream over SSE or graphql-transport-ws).
func GraphiQLHandlerFS(endpoint string, fsys fs.FS) http.Handler {
	if b, err := fs.ReadFile(fsys, "graphiql.html"); err == nil {
		return bundledGraphiQL(endpoint, string(b))
	}
	return inlineGraphiQL(endpoint)
}

// bundledGraphiQL serves the build's graphiql.html with the endpoint filled in. Its CSP allows
// scripts from this server only; GraphiQL's editor sets inline styles and its stylesheet carries
// data: fonts, so style-src and font-src are wider than the app's.
func bundledGraphiQL(endpoint, page string) http.Handler {
	page = strings.ReplaceAll(page, "{{.Endpoint}}", html.EscapeString(endpoint))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "+
			"font-src 'self' data:; img-src 'self' data:; connect-src 'self' ws://"+r.Host+" wss://"+r.Host+
			"; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write([]byte(page))
	})
}

// inlineGraphiQL is the self-contained page for binaries built without the web app.
func inlineGraphiQL(endpoint string) http.Handler {
	page := strings.NewReplacer(
		"{{.Endpoint}}", html.EscapeString(endpoint),
		"{{.Style}}", graphiqlCSS,
		"{{.Script}}", graphiqlJS,
	).Replace(graphiqlHTML)
	scriptHash, styleHash := cspHash(graphiqlJS), cspHash(graphiqlCSS)
	var extra []string
	if u, err := url.Parse(endpoint); err == nil && u.Host != "" {
		extra = []string{"https://" + u.Host, "http://" + u.Host, "wss://" + u.Host, "ws://" + u.Host}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		// 'self' does not cover websockets in every browser: name this host's ws origins.
		connect := append([]string{"'self'", "ws://" + r.Host, "wss://" + r.Host}, extra...)
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src '"+scriptHash+"'; style-src '"+styleHash+
			"'; connect-src "+strings.Join(connect, " ")+"; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write([]byte(page))
	})
}

// cspHash is the CSP source expression allowing one inline element with this exact content.
func cspHash(content string) string {
	sum := sha256.Sum256([]byte(content))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}
