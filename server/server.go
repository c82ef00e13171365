package server

import (
	"context"
	"errors"
	"fmt"
	"github.com/prometheus/client_golang/prometheus"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Server is LawBot's HTTP server: the routes behind the middleware chain, readiness, metrics and
// the listener's lifecycle.
type Server struct {
	opts     Options
	log      *slog.Logger
	metrics  *metrics
	limiter  *rateLimiter
	conns    *connLimiter
	inFlight inFlight
	handler  http.Handler

	mu       sync.Mutex
	ready    bool
	notReady string // why /readyz says 503
	addr     net.Addr
}

// New builds a server; nothing listens until Run, Serve or ListenAndServe.
func New(opts Options) *Server {
	opts = opts.withDefaults()
	s := &Server{opts: opts, log: opts.Logger, metrics: newMetrics(opts.Registry), notReady: "starting"}
	if opts.Rate > 0 {
		s.limiter = newRateLimiter(opts.Rate, opts.Burst, opts.RateIdle)
	}

	mux := http.NewServeMux()
	if opts.GraphQL != nil || opts.Root == nil { // a model server has a root and no GraphQL
		mux.Handle("/graphql", orUnavailable(opts.GraphQL, s.RecordError))
	}
	if opts.GraphiQL != nil {
		mux.Handle("/graphiql", opts.GraphiQL)
	}
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/readyz", s.serveReadyz)
	if opts.Models != nil {
		mux.Handle("/models", opts.Models)
	}
	if opts.Admin != nil {
		mux.Handle("/admin/", opts.Admin)
	}
	mux.Handle("/metrics", s.metrics.handler())
	if opts.Root != nil {
		mux.Handle("/", opts.Root)
	} else {
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/" && opts.GraphiQL != nil {
				http.Redirect(w, r, "/graphiql", http.StatusFound)
				return
			}
			writeError(w, http.StatusNotFound, CodeNotFound, "no such page")
		})
	}

	var h http.Handler = mux
	h = limitBody(opts.MaxBodyBytes, opts.BodyTimeout, s.RecordError, h)
	if s.limiter != nil {
		h = limitRate(s.limiter, opts.ClientKey, s.RecordError, h)
	}
	h = strictTransportSecurity(s.TLS(), h)
	h = recoverPanics(s.log, s.RecordError, h)
	h = logAccess(s.log, h)
	h = instrument(s.metrics, &s.inFlight, h)
	s.handler = withClient(opts.ClientKey, h)
	s.conns = newConnLimiter(opts.MaxConnsPerClient, opts.MaxConns, func() { s.RecordError(CodeTooManyConnections) })
	return s
}

// orUnavailable serves 503 UNAVAILABLE in place of a missing handler.
func orUnavailable(h http.Handler, onError func(string)) http.Handler {
	if h != nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		onError(CodeUnavailable)
		writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "the GraphQL API is not configured")
	})
}

// Handler is the whole server as an http.Handler: routes behind the middleware.
func (s *Server) Handler() http.Handler { return s.handler }

// SetReady marks the server ready (/readyz 200) or not ready.
func (s *Server) SetReady(ready bool) {
	if ready {
		s.setReady(true, "")
	} else {
		s.setReady(false, "not ready")
	}
}

// SetNotReady marks the server not ready and says why ("loading indexes", "load state: …"):
// /readyz answers 503 with the reason.
func (s *Server) SetNotReady(reason string) { s.setReady(false, reason) }

func (s *Server) setReady(ready bool, reason string) {
	s.mu.Lock()
	s.ready, s.notReady = ready, reason
	s.mu.Unlock()
	if ready {
		s.metrics.ready.Set(1)
	} else {
		s.metrics.ready.Set(0)
	}
}

// Ready reports readiness and, when not ready, why.
func (s *Server) Ready() (bool, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ready, s.notReady
}

func (s *Server) serveReadyz(w http.ResponseWriter, r *http.Request) {
	ready, reason := s.Ready()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if !ready {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, Redact(reason))
		return
	}
	fmt.Fprintln(w, "ready")
}

// Observe records how long a pipeline stage took (graph.Config.Observe).
func (s *Server) Observe(stage string, d time.Duration) {
	s.metrics.stages.WithLabelValues(stage).Observe(d.Seconds())
}

// RecordError counts an error answered with extensions.code = code (graph.Config.OnError).
func (s *Server) RecordError(code string) {
	s.metrics.errors.WithLabelValues(code).Inc()
}

// Logger is the server's redacting logger.
func (s *Server) Logger() *slog.Logger { return s.log }

// Addr is the bound address once listening, else nil.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// TLS says whether the server speaks HTTPS.
func (s *Server) TLS() bool { return s.opts.TLSCert != "" && s.opts.TLSKey != "" }

// Run listens on Options.Addr and serves until ctx ends or the process gets SIGINT or SIGTERM,
// then shuts down gracefully; a second signal during the shutdown ends the process at once.
func (s *Server) Run(ctx context.Context) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop()
	}()
	return s.ListenAndServe(ctx)
}

// ListenAndServe listens on Options.Addr and serves until ctx ends, then shuts down gracefully.
func (s *Server) ListenAndServe(ctx context.Context) error {
	if (s.opts.TLSCert == "") != (s.opts.TLSKey == "") {
		return errors.New("TLS needs both a certificate and a key")
	}
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", s.opts.Addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx ends. Shutdown then stops accepting, marks the server not
// ready, waits up to ShutdownTimeout for requests in flight — SSE streams and websocket
// connections included — and closes what is left.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.mu.Lock()
	s.addr = ln.Addr()
	s.mu.Unlock()
	if s.opts.OnListen != nil {
		s.opts.OnListen(ln.Addr())
	}
	baseCtx, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBase()
	hs := &http.Server{
		Handler:           s.handler,
		TLSConfig:         tlsConfig(),
		ReadHeaderTimeout: s.opts.ReadHeaderTimeout,
		IdleTimeout:       s.opts.IdleTimeout,
		MaxHeaderBytes:    DefaultMaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return baseCtx },
	}
	if s.opts.OnShutdown != nil {
		hs.RegisterOnShutdown(s.opts.OnShutdown)
	}
	ln = limitedListener{Listener: ln, l: s.conns}
	errc := make(chan error, 1)
	go func() {
		if s.TLS() {
			errc <- hs.ServeTLS(ln, s.opts.TLSCert, s.opts.TLSKey)
		} else {
			errc <- hs.Serve(ln)
		}
	}()

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.SetNotReady("shutting down")
	n := s.inFlight.load()
	s.log.Info("shutting down: waiting for the requests and streams in flight", "in_flight", n, "timeout", s.opts.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer cancel()
	// Shutdown closes the listener and idle connections and waits for active requests, SSE
	// streams among them; websocket handlers run on hijacked connections it does not track,
	// so the in-flight count (kept by the middleware) is waited on as well.
	err := hs.Shutdown(sctx)
	if err == nil {
		err = s.inFlight.wait(sctx)
	}
	if err != nil {
		s.log.Warn("shutdown timed out; closing the remaining connections", "in_flight", s.inFlight.load())
		cancelBase() // request contexts end, so handlers watching them stop
		hs.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	s.log.Info("stopped")
	return nil
}

// inFlight counts the requests being served; shutdown polls it, since a WaitGroup may not gain
// members while it is waited on and requests keep arriving until the listener closes.
type inFlight struct{ n atomic.Int64 }

func (f *inFlight) add(d int64) { f.n.Add(d) }

func (f *inFlight) load() int64 { return f.n.Load() }

func (f *inFlight) wait(ctx context.Context) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for f.n.Load() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// MustRegister adds collectors of the service's own (the pipeline's counters) to /metrics.
func (s *Server) MustRegister(cs ...prometheus.Collector) {
	s.metrics.registry.MustRegister(cs...)
}
