package server

import (
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults for the zero fields of Options.
const (
	DefaultAddr              = "127.0.0.1:8080"
	DefaultMaxBodyBytes      = 64 << 10
	DefaultRate              = 10 // requests per second per client
	DefaultBurst             = 30
	DefaultRateIdle          = 10 * time.Minute
	DefaultShutdownTimeout   = 30 * time.Second
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultBodyTimeout       = 10 * time.Second
	DefaultMaxConnsPerClient = 64
	// DefaultMaxHeaderBytes caps a request's header block (431 beyond).
	DefaultMaxHeaderBytes = 64 << 10
)

// Options configure a Server. The zero value of every field means its default, so
// server.New(server.Options{GraphQL: h}) is a working server.
type Options struct {
	// Addr is the HOST:PORT to listen on; port 0 picks a free one (see OnListen and Addr).
	Addr string

	// GraphQL serves /graphql (POST, GET, SSE, websocket); nil answers 503 UNAVAILABLE.
	GraphQL http.Handler
	// GraphiQL serves /graphiql; nil answers 404.
	GraphiQL http.Handler
	// Root serves / (the web app, a later issue); nil redirects / to /graphiql.
	Root http.Handler
	// Models serves /models, the models loaded now (gpu.StatusHandler); nil answers 404.
	Models http.Handler
	// Admin serves /admin/ (the reload; it checks its own token); nil answers 404.
	Admin http.Handler

	// MaxBodyBytes caps a request body; a larger one is refused with 413 REQUEST_TOO_LARGE
	// before the handler reads it. 0 means DefaultMaxBodyBytes, a negative value no limit.
	MaxBodyBytes int64

	// Rate is the sustained requests per second allowed per client IP, Burst the bucket size;
	// over it a client gets 429 RATE_LIMITED with Retry-After. 0 means the default, a
	// negative Rate no limit. /healthz, /readyz and /metrics are never limited.
	Rate  float64
	Burst int
	// RateIdle is how long a client's bucket is kept after its last request (memory bound).
	RateIdle time.Duration
	// ClientKey names the client a request is counted against; nil uses the remote IP. Set it
	// when behind a trusted proxy that passes the real address.
	ClientKey func(*http.Request) string

	// ShutdownTimeout bounds how long a shutdown waits for requests and streams in flight.
	ShutdownTimeout time.Duration
	// ReadHeaderTimeout and IdleTimeout guard against slow or idle clients. There is no write
	// timeout: answers stream.
	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration
	// BodyTimeout bounds reading a request body, from the end of its headers: a body that
	// trickles in slower gets 408 REQUEST_TIMEOUT and the connection is closed.
	BodyTimeout time.Duration

	// MaxConnsPerClient caps the connections one IP address holds open at once (0: the
	// default, negative: no cap); MaxConns caps them all (0: three quarters of the process's
	// open-file limit). A connection over a cap is closed as soon as it is accepted.
	MaxConnsPerClient int
	MaxConns          int

	// OnShutdown is called when the graceful shutdown begins (the GraphQL handler closes its
	// idle websockets, which http.Server does not track).
	OnShutdown func()

	// TLSCert and TLSKey are PEM files; with both set the server speaks HTTPS only.
	TLSCert, TLSKey string

	// Logger receives access logs and errors; it is wrapped by NewRedactingHandler so user text
	// never reaches it with personal data. nil uses slog.Default().
	Logger *slog.Logger
	// Registry receives the metrics; nil makes a fresh registry with the Go and process
	// collectors.
	Registry *prometheus.Registry

	// OnListen is called with the bound address once the listener is open, before serving.
	OnListen func(net.Addr)
}

func (o Options) withDefaults() Options {
	if o.Addr == "" {
		o.Addr = DefaultAddr
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.Rate == 0 {
		o.Rate = DefaultRate
	}
	if o.Burst <= 0 {
		o.Burst = DefaultBurst
	}
	if o.RateIdle <= 0 {
		o.RateIdle = DefaultRateIdle
	}
	if o.ClientKey == nil {
		o.ClientKey = remoteIP
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = DefaultShutdownTimeout
	}
	if o.ReadHeaderTimeout <= 0 {
		o.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.BodyTimeout <= 0 {
		o.BodyTimeout = DefaultBodyTimeout
	}
	if o.MaxConnsPerClient == 0 {
		o.MaxConnsPerClient = DefaultMaxConnsPerClient
	}
	if o.MaxConns == 0 {
		o.MaxConns = 10000
		if n := openFileLimit(); n > 0 {
			o.MaxConns = max(64, n*3/4)
		}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.Logger = slog.New(NewRedactingHandler(o.Logger.Handler()))
	return o
}

// remoteIP is the host part of the connection's address.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
