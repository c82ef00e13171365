package graph

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	gqlhandler "github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/lawbot-kr/lawbot/advice"
	"github.com/lawbot-kr/lawbot/graph/generated"
)

// Config configures the GraphQL handler; zero values take the defaults noted.
type Config struct {
	// Pipeline returns the loaded pipeline, or nil while the indexes load (requests then get
	// a coded UNAVAILABLE error).
	Pipeline func() *advice.Pipeline
	// MaxDepth limits how deeply selections nest (default 12): QUERY_TOO_DEEP beyond.
	MaxDepth int
	// MaxComplexity limits an operation's cost (default 500): QUERY_TOO_COMPLEX beyond. Lists
	// cost their children once per item `first` allows; advice costs 50.
	MaxComplexity int
	// AllowedOrigins are the browser origins that may open websockets: full origins
	// ("https://lawbot.example") or host patterns ("*.lawbot.example"). Empty: the request's
	// own host only; "*": any.
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
}

// Defaults for Config's zero values.
const (
	DefaultMaxDepth       = 12
	DefaultMaxComplexity  = 500
	DefaultKeepAlive      = 15 * time.Second
	DefaultRequestTimeout = 30 * time.Second
	// wsInitTimeout is how long a websocket may stay open without connection_init.
	wsInitTimeout = 10 * time.Second
	// parserTokenLimit refuses absurd queries before parsing them fully.
	parserTokenLimit = 10000
)

func (c Config) withDefaults() Config {
	if c.MaxDepth <= 0 {
		c.MaxDepth = DefaultMaxDepth
	}
	if c.MaxComplexity <= 0 {
		c.MaxComplexity = DefaultMaxComplexity
	}
	if c.KeepAlive <= 0 {
		c.KeepAlive = DefaultKeepAlive
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	return c
}

// handler is the /graphql endpoint: gqlgen's server behind the checks gqlgen does not make.
type handler struct {
	cfg Config
	srv *gqlhandler.Server
}

// NewHandler returns the /graphql endpoint: queries over POST and GET, subscriptions over
// websockets (graphql-transport-ws and the legacy graphql-ws) and over SSE (POST with
// Accept: text/event-stream). The server mounts it and adds its own limits (body size, rate).
func NewHandler(cfg Config) http.Handler {
	cfg = cfg.withDefaults()
	h := &handler{cfg: cfg}
	srv := gqlhandler.New(generated.NewExecutableSchema(generated.Config{
		Resolvers:  &Resolver{cfg: cfg},
		Complexity: complexity(),
	}))
	srv.AddTransport(transport.Websocket{
		// The origin is checked in ServeHTTP, before the upgrade.
		Implementation:        transport.CoderWebsocketImplementation{AcceptOptions: websocket.AcceptOptions{InsecureSkipVerify: true}},
		InitTimeout:           wsInitTimeout,
		KeepAlivePingInterval: cfg.KeepAlive, // graphql-ws: "ka" messages
		PingPongInterval:      cfg.KeepAlive, // graphql-transport-ws: ping, expecting pong
	})
	srv.AddTransport(transport.Options{AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodOptions}})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.SSE{KeepAlivePingInterval: cfg.KeepAlive}) // before POST: both take POST JSON
	srv.AddTransport(transport.POST{})
	srv.AddTransport(unsupported{h})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetParserTokenLimit(parserTokenLimit)
	srv.Use(extension.Introspection{})
	srv.Use(depthLimit{cfg.MaxDepth})
	srv.Use(complexityLimit{extension.FixedComplexityLimit(cfg.MaxComplexity)})
	srv.SetErrorPresenter(h.presentError)
	srv.SetRecoverFunc(h.recoverPanic)
	h.srv = srv
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
	h.srv.ServeHTTP(w, r)
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
		return strings.EqualFold(u.Host, r.Host)
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

// unsupported answers what no transport takes: a coded error instead of gqlgen's bare one.
type unsupported struct{ h *handler }

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
