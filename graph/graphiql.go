package graph

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"html"
	"net/http"
	"net/url"
	"strings"
)

// The GraphiQL page is our own: gqlgen's playground loads its scripts from a CDN, which fails
// offline and would tell a third party that someone is asking LawBot something. Everything is
// inline and the Content-Security-Policy allows exactly the inline script and style (by hash)
// and connections to this server.
var (
	//go:embed graphiql/page.html
	graphiqlHTML string
	//go:embed graphiql/page.css
	graphiqlCSS string
	//go:embed graphiql/page.js
	graphiqlJS string
)

// GraphiQLHandler serves the offline query page for endpoint (e.g. "/graphql"): an editor, a
// variables box, Run (POST), and a live adviceStream over SSE or graphql-transport-ws.
func GraphiQLHandler(endpoint string) http.Handler {
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
