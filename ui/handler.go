package ui

import (
	"bytes"
	"compress/gzip"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
)

// Handler serves the embedded app at /: its files, index.html for the app's own routes (/,
// /statute/<id>, /precedent/<case number>), 404 for anything else. See HandlerFS.
func Handler() http.Handler { return HandlerFS(Dist()) }

// HandlerFS serves the app built into fsys. Hashed assets (/assets/…) are cached for a year,
// index.html is revalidated on every load so a new build is picked up at once; text assets are
// gzipped once and kept. Every page carries a strict Content-Security-Policy: scripts and
// styles only from this server, connections only to this server (its websocket included).
func HandlerFS(fsys fs.FS) http.Handler {
	h := &handler{fsys: fsys, gz: map[string][]byte{}}
	if b, err := fs.ReadFile(fsys, "index.html"); err == nil {
		h.index = b
	} else {
		h.index = []byte(notBuiltPage)
	}
	return h
}

type handler struct {
	fsys  fs.FS
	index []byte

	mu  sync.Mutex
	gz  map[string][]byte // gzipped assets by path
	raw map[string][]byte // assets as embedded, read once
}

// appRoutes are the client-side routes that get index.html (shareable URLs).
var appRoutes = []string{"/statute/", "/precedent/"}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w, r)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	switch {
	case p == "/" || p == "/index.html" || hasAppRoute(p):
		h.serveIndex(w, r)
	case strings.HasPrefix(p, "/assets/"):
		h.serveFile(w, r, strings.TrimPrefix(p, "/"), "public, max-age=31536000, immutable")
	case p == "/favicon.svg" || p == "/robots.txt":
		h.serveFile(w, r, strings.TrimPrefix(p, "/"), "public, max-age=86400")
	default:
		http.Error(w, "404 — 없는 페이지입니다 (page not found)", http.StatusNotFound)
	}
}

func hasAppRoute(p string) bool {
	for _, prefix := range appRoutes {
		if strings.HasPrefix(p, prefix) && len(p) > len(prefix) {
			return true
		}
	}
	return false
}

func (h *handler) serveIndex(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-cache")
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(h.index)
}

func (h *handler) serveFile(w http.ResponseWriter, r *http.Request, name, cacheControl string) {
	if !fs.ValidPath(name) || !HasFile(h.fsys, name) {
		http.Error(w, "404 — 없는 파일입니다 (file not found)", http.StatusNotFound)
		return
	}
	b, err := h.file(name)
	if err != nil {
		http.Error(w, "cannot read "+name, http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = http.DetectContentType(b)
	}
	hd.Set("Content-Type", ctype)
	hd.Set("Cache-Control", cacheControl)
	hd.Add("Vary", "Accept-Encoding")
	if compressible(ctype) && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		b = h.gzipped(name, b)
		hd.Set("Content-Encoding", "gzip")
	}
	hd.Set("Content-Length", strconv.Itoa(len(b)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(b)
}

// file reads an embedded file once and keeps it: reading an embed.FS copies the file, and the
// assets are exempt from the rate limit, so a request must not cost a copy.
func (h *handler) file(name string) ([]byte, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if b, ok := h.raw[name]; ok {
		return b, nil
	}
	b, err := fs.ReadFile(h.fsys, name)
	if err != nil {
		return nil, err
	}
	if h.raw == nil {
		h.raw = map[string][]byte{}
	}
	h.raw[name] = b
	return b, nil
}

func (h *handler) gzipped(name string, b []byte) []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	if z, ok := h.gz[name]; ok {
		return z
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(b)
	_ = zw.Close()
	h.gz[name] = buf.Bytes()
	return h.gz[name]
}

func compressible(ctype string) bool {
	for _, t := range []string{"text/", "application/javascript", "text/javascript", "application/json", "image/svg+xml"} {
		if strings.HasPrefix(ctype, t) {
			return true
		}
	}
	return false
}

// setSecurityHeaders sets the app's CSP: everything from this server only (inline style
// attributes excepted: cytoscape.js positions its layers with them; scripts stay 'self'). 'self' does not
// cover websockets in every browser, so this host's ws origins are named (the answer streams
// over graphql-transport-ws). No referrer: a shared URL carries the person's question.
func setSecurityHeaders(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", AppCSP(r.Host))
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
}

// AppCSP is the Content-Security-Policy of the app's pages for a request to host.
func AppCSP(host string) string {
	return "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; " +
		"connect-src 'self' ws://" + host + " wss://" + host + "; object-src 'none'; base-uri 'none'; " +
		"form-action 'self'; frame-ancestors 'none'"
}

// notBuiltPage is served at / when the binary was built before the app (a clean clone).
const notBuiltPage = `<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>LawBot</title></head>
<body>
<h1>LawBot</h1>
<p>이 바이너리에는 웹 앱이 들어 있지 않습니다. <code>make ui</code>(또는 <code>make build</code>)로 웹 앱을 빌드한 뒤 다시 빌드하세요.</p>
<p>This binary was built without the web app: run <code>make ui</code> (or <code>make build</code>) and rebuild.
The API is at <a href="/graphql">/graphql</a> and its explorer at <a href="/graphiql">/graphiql</a>.</p>
</body></html>
`
