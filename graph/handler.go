package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"runtime"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	gqlhandler "github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/lawbot-kr/lawbot/graph/generated"
)

// Config configures the GraphQL handler; zero values take the defaults noted.
type Config struct {
	// Backend returns what the resolvers answer from, or nil while the indexes load (requests
	// then get a coded UNAVAILABLE error); PipelineBackend makes it from the advice pipeline.
	Backend func() *Backend
	// MaxDepth limits how deeply selections nest (default 12): QUERY_TOO_DEEP beyond.
	MaxDepth int
	// MaxComplexity limits an operation's cost (default 500): QUERY_TOO_COMPLEX beyond. Lists
	// cost their children once per item `first` allows; advice costs 50.
	MaxComplexity int
	// AllowedOrigins are the browser origins that may open websockets: full origins
	// ("https://lawbot.example") or host patterns ("*.lawbot.example"). Empty: the request's
	// own host when it is an IP address or localhost (a domain name must be listed, or a
	// rebinding attacker's name would pass); "*": any.
	AllowedOrigins []string
	// KeepAlive is the websocket ping interval (default 15s); a graphql-transport-ws client
	// that does not answer with pong within two intervals is dropped.
	KeepAlive time.Duration
	// RequestTimeout bounds one pipeline run, in a query or a subscription (default 30s).
	RequestTimeout time.Duration
	// Observe, when set, receives each pipeline stage's latency (LEGAL_CHECK,
	// SIMILAR_QUESTIONS, PRECEDENTS, STATUTES, ANSWER) for metrics.
	Observe func(stage string, d time.Duration)
	// OnError, when set, is called with the code of every error returned to a client.
	OnError func(code string)
	// LoadFailed, when set, says whether loading the backend failed for good: requests then
	// hear that it failed (UNAVAILABLE), not that it is still loading.
	LoadFailed func() bool

	// Limits bound each document before it is validated (QUERY_TOO_LARGE, QUERY_TOO_COMPLEX,
	// INTROSPECTION_DISABLED); zero fields take their defaults.
	Limits Limits

	// Client names the client a request belongs to (the server's per-IP key, from the request
	// context); nil counts every request as one client.
	Client func(ctx context.Context) string
	// Charge, when set, takes one request from the client's rate budget for each operation
	// started on a websocket, as the HTTP middleware does for each request; false refuses it
	// with RATE_LIMITED and says when to retry.
	Charge func(ctx context.Context) (ok bool, retryAfter time.Duration)
	// MaxMessageBytes caps one websocket message (default 64 KiB, the HTTP body limit); a
	// larger one closes the socket with 1009.
	MaxMessageBytes int64
	// MaxOpsPerSocket and MaxOpsPerClient cap the operations running at once on one websocket
	// and over all of one client's websockets (defaults 8 and 16): TOO_MANY_OPERATIONS beyond.
	MaxOpsPerSocket, MaxOpsPerClient int

	// PipelineSlots is how many advice pipelines run at once (default: the CPU count, at
	// least 2). PipelinePerClient is a client's share of them (default half, at least 1): it
	// may use more while workers are free, but when they are not it waits behind every client
	// under its share, and at most PipelineQueue such requests wait (default 8). No request
	// waits longer than PipelineWait (default 2s). Beyond: OVERLOADED with retryAfter.
	PipelineSlots, PipelinePerClient, PipelineQueue int
	PipelineWait                                    time.Duration
}

// Defaults for Config's zero values.
const (
	DefaultMaxDepth       = 12
	DefaultMaxComplexity  = 500
	DefaultKeepAlive      = 15 * time.Second
	DefaultRequestTimeout = 30 * time.Second
	// wsInitTimeout is how long a websocket may stay open without connection_init.
	wsInitTimeout = 10 * time.Second
	// DefaultMaxMessageBytes is the websocket message limit: the HTTP body limit.
	DefaultMaxMessageBytes = 64 << 10
	DefaultMaxOpsPerSocket = 8
	DefaultMaxOpsPerClient = 16
)

func (c Config) withDefaults() Config {
	orDefault(&c.MaxDepth, DefaultMaxDepth)
	orDefault(&c.MaxComplexity, DefaultMaxComplexity)
	orDefault(&c.KeepAlive, DefaultKeepAlive)
	orDefault(&c.RequestTimeout, DefaultRequestTimeout)
	c.Limits = c.Limits.withDefaults()
	if c.Client == nil {
		c.Client = func(context.Context) string { return "" }
	}
	orDefault(&c.MaxMessageBytes, DefaultMaxMessageBytes)
	orDefault(&c.MaxOpsPerSocket, DefaultMaxOpsPerSocket)
	orDefault(&c.MaxOpsPerClient, DefaultMaxOpsPerClient)
	orDefault(&c.PipelineSlots, max(2, runtime.NumCPU()))
	orDefault(&c.PipelinePerClient, max(1, c.PipelineSlots/2))
	orDefault(&c.PipelineQueue, DefaultPipelineQueue)
	orDefault(&c.PipelineWait, DefaultPipelineWait)
	return c
}

// orDefault sets a setting that is zero or negative (not given) to its default.
func orDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Handler is the /graphql endpoint: gqlgen's server behind the checks gqlgen does not make.
type Handler struct {
	cfg     Config
	srv     *gqlhandler.Server
	sockets *sockets
}

// NewHandler returns the /graphql endpoint: queries over POST and GET, subscriptions over
// websockets (graphql-transport-ws and the legacy graphql-ws) and over SSE (POST with
// Accept: text/event-stream). The server mounts it and adds its own limits (body size, rate,
// connections); call Shutdown when the server's graceful shutdown begins.
func NewHandler(cfg Config) *Handler {
	cfg = cfg.withDefaults()
	h := &Handler{cfg: cfg}
	h.sockets = newSockets(cfg.Charge, cfg.MaxOpsPerSocket, cfg.MaxOpsPerClient, h.countError)
	res := &Resolver{cfg: cfg,
		pool: newAdmission(cfg.PipelineSlots, cfg.PipelinePerClient, cfg.PipelineQueue, cfg.PipelineWait)}
	srv := gqlhandler.New(generated.NewExecutableSchema(generated.Config{
		Resolvers:  res,
		Complexity: complexity(),
	}))
	readLimit := cfg.MaxMessageBytes
	srv.AddTransport(transport.Websocket{
		// The origin is checked in ServeHTTP, before the upgrade.
		Implementation: h.sockets.implementation(
			transport.CoderWebsocketImplementation{AcceptOptions: websocket.AcceptOptions{InsecureSkipVerify: true}},
			cfg.Client),
		InitTimeout:           wsInitTimeout,
		KeepAlivePingInterval: cfg.KeepAlive, // graphql-ws: "ka" messages
		PingPongInterval:      cfg.KeepAlive, // graphql-transport-ws: ping, expecting pong
		PayloadReadLimit:      &readLimit,
	})
	srv.AddTransport(transport.Options{AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodOptions}})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.SSE{KeepAlivePingInterval: cfg.KeepAlive}) // before POST: both take POST JSON
	srv.AddTransport(transport.POST{})
	srv.AddTransport(unsupported{h})
	cache := lru.New[*ast.QueryDocument](1000)
	srv.SetQueryCache(cache)
	srv.SetParserTokenLimit(cfg.Limits.Tokens)
	// The budget runs first: it refuses before gqlgen parses and validates.
	srv.Use(budget{limits: cfg.Limits, seen: cache.Get})
	srv.Use(getQueriesOnly{})
	if !cfg.Limits.NoIntrospection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(depthLimit{cfg.MaxDepth})
	srv.Use(complexityLimit{extension.FixedComplexityLimit(cfg.MaxComplexity)})
	srv.SetErrorPresenter(h.presentError)
	srv.SetRecoverFunc(h.recoverPanic)
	h.srv = srv
	return h
}

// Shutdown closes idle websockets now (1001) and busy ones as their last operation ends, and
// refuses new websocket operations. The server calls it as its graceful shutdown begins.
func (h *Handler) Shutdown() { h.sockets.Shutdown() }

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := withResponseHeader(r.Context(), w.Header())
	if r.Method == http.MethodGet && r.Header.Get("Upgrade") == "" {
		ctx = context.WithValue(ctx, viaGETKey{}, true)
	}
	r = r.WithContext(ctx)
	if r.Header.Get("Upgrade") != "" && !originAllowed(r, h.cfg.AllowedOrigins) {
		h.writeError(w, http.StatusForbidden, CodeForbiddenOrigin, "this origin may not open a websocket here")
		return
	}
	if r.Method == http.MethodPost && isJSON(r) {
		// Checked here rather than by gqlgen, which echoes (and for SSE logs) a body it cannot
		// decode: the body may hold a question.
		body, err := io.ReadAll(r.Body)
		if err != nil {
			h.writeError(w, http.StatusBadRequest, CodeMalformedRequest, "the request body could not be read")
			return
		}
		var params struct {
			Query         string         `json:"query"`
			OperationName string         `json:"operationName"`
			Variables     map[string]any `json:"variables"`
			Extensions    map[string]any `json:"extensions"`
		}
		if err := json.Unmarshal(body, &params); err != nil {
			h.writeError(w, http.StatusBadRequest, CodeMalformedRequest,
				"the request body is not a GraphQL JSON request ({\"query\": …, \"variables\": {…}}): "+jsonProblem(err))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	if r.Header.Get("Upgrade") != "" || strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		h.srv.ServeHTTP(w, r) // websockets and SSE answer as they go
		return
	}
	sw := &specStatus{ResponseWriter: w}
	h.srv.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), specKey{}, sw)))
	sw.finish()
}

// jsonProblem describes a decoding error without quoting the body.
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errorsAs(err, &syntax):
		return "invalid JSON"
	case errorsAs(err, &typ):
		return "field " + typ.Field + " has the wrong type"
	}
	return "invalid JSON"
}

func isJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

// originAllowed is the websocket origin check. Requests without Origin are not from browsers
// and pass; browsers' cross-site requests need an allowed origin.
func originAllowed(r *http.Request, allowed []string) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if len(allowed) == 0 {
		// The page's own host — but only a host no one else's DNS can point here: an IP
		// literal or localhost. Any name could be rebound to this address by its owner (DNS
		// rebinding: Host and Origin both say evil.example), so names must be listed.
		return strings.EqualFold(u.Host, r.Host) && unspoofableHost(u.Hostname())
	}
	for _, a := range allowed {
		a = strings.ToLower(strings.TrimSuffix(a, "/"))
		switch {
		case a == "*":
			return true
		case strings.Contains(a, "://"):
			if a == strings.ToLower(u.Scheme+"://"+u.Host) {
				return true
			}
		default:
			if ok, _ := path.Match(a, strings.ToLower(u.Host)); ok {
				return true
			}
		}
	}
	return false
}

// unspoofableHost says whether a host names this machine whatever DNS says: an IP address,
// localhost or a name under .localhost (which resolvers must keep on loopback, RFC 6761).
func unspoofableHost(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}

// unsupported answers what no transport takes: a coded error instead of gqlgen's bare one.
type unsupported struct{ h *Handler }

func (unsupported) Supports(*http.Request) bool { return true }

func (u unsupported) Do(w http.ResponseWriter, r *http.Request, _ graphql.GraphExecutor) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST, OPTIONS")
		u.h.writeError(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed, "use GET or POST (or a websocket) for /graphql")
		return
	}
	u.h.writeError(w, http.StatusUnsupportedMediaType, CodeUnsupportedContentType,
		"POST bodies must be Content-Type: application/json")
}
