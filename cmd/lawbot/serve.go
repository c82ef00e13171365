package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lawbot-kr/lawbot/advice"
	"github.com/lawbot-kr/lawbot/gpu"
	"github.com/lawbot-kr/lawbot/graph"
	"github.com/lawbot-kr/lawbot/index"
	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/models"
	"github.com/lawbot-kr/lawbot/server"
	"github.com/lawbot-kr/lawbot/service"
	"github.com/lawbot-kr/lawbot/state"
	"github.com/lawbot-kr/lawbot/ui"
)

// serveOptions are lawbot serve's flags.
type serveOptions struct {
	DataFlag, StateDir, Addr string
	TLSCert, TLSKey          string
	Rate                     float64
	Burst                    int
	MaxBody                  int64
	AllowedOrigins           []string
	ShutdownTimeout          time.Duration
	RequestTimeout           time.Duration
	MaxDepth, MaxComplexity  int
	Limits                   graph.Limits
	BodyTimeout              time.Duration
	MaxConnsPerClient        int
	MaxOpsPerSocket          int
	MaxOpsPerClient          int
	PipelineSlots            int
	LogJSON                  bool
	VectorStore              string
	Models                   service.ModelConfig
}

func runServe(args []string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C during the graceful shutdown quits at once
	}()
	return serve(ctx, args, stdout, stderr)
}

func parseServeFlags(args []string, stderr io.Writer) (serveOptions, error) {
	var o serveOptions
	fs := newFlags("serve", stderr)
	fs.StringVar(&o.DataFlag, "data", "", "corpus directory (default $"+law.DataEnv+", else "+law.DefaultDataDir+"); the state is ingested from it when missing or stale")
	fs.StringVar(&o.StateDir, "state", state.DefaultDir, "state directory")
	fs.StringVar(&o.Addr, "addr", server.DefaultAddr, "`HOST:PORT` to listen on (port 0: any free port)")
	fs.StringVar(&o.TLSCert, "tls-cert", "", "TLS certificate (PEM `file`); with --tls-key the server speaks HTTPS only")
	fs.StringVar(&o.TLSKey, "tls-key", "", "TLS private key (PEM `file`)")
	fs.Float64Var(&o.Rate, "rate", server.DefaultRate, "requests per second allowed per client IP (0: no limit)")
	fs.IntVar(&o.Burst, "burst", server.DefaultBurst, "requests a client may send at once before --rate applies")
	fs.Int64Var(&o.MaxBody, "max-body", server.DefaultMaxBodyBytes, "largest request body in `bytes` (413 REQUEST_TOO_LARGE beyond)")
	origins := fs.String("allowed-origins", "", "comma-separated browser origins allowed to open websockets (default: the server's own; * for any)")
	fs.DurationVar(&o.ShutdownTimeout, "shutdown-timeout", server.DefaultShutdownTimeout, "how long a shutdown waits for requests and streams in flight")
	fs.DurationVar(&o.RequestTimeout, "request-timeout", graph.DefaultRequestTimeout, "limit on one advice run")
	fs.IntVar(&o.MaxDepth, "max-depth", graph.DefaultMaxDepth, "deepest query nesting allowed")
	fs.IntVar(&o.MaxComplexity, "max-complexity", graph.DefaultMaxComplexity, "costliest query allowed")
	fs.IntVar(&o.Limits.Selections, "max-selections", graph.DefaultMaxSelections, "most fields a query may select, fragments expanded (QUERY_TOO_LARGE beyond)")
	introspection := fs.Bool("introspection", true, "answer __schema and __type (GraphiQL needs them; false for production: INTROSPECTION_DISABLED)")
	fs.DurationVar(&o.BodyTimeout, "body-timeout", server.DefaultBodyTimeout, "longest a request body may take to arrive (408 REQUEST_TIMEOUT beyond)")
	fs.IntVar(&o.MaxConnsPerClient, "max-conns-per-client", server.DefaultMaxConnsPerClient, "connections one IP address may hold open (more are closed at accept; -1: no cap)")
	fs.IntVar(&o.MaxOpsPerSocket, "max-ops-per-socket", graph.DefaultMaxOpsPerSocket, "operations one websocket may run at once (TOO_MANY_OPERATIONS beyond)")
	fs.IntVar(&o.MaxOpsPerClient, "max-ops-per-client", graph.DefaultMaxOpsPerClient, "operations one IP address may run at once over all its websockets")
	fs.IntVar(&o.PipelineSlots, "pipeline-slots", 0, "advice pipelines run at once (default: the CPU count, at least 2; each client gets half; OVERLOADED beyond)")
	fs.BoolVar(&o.LogJSON, "log-json", false, "write logs as JSON lines instead of text")
	fs.StringVar(&o.VectorStore, "vector-store", "embedded", service.VectorStoreUsage)
	finishModels := modelFlags(fs, &o.Models)
	if err := parseFlags(fs, args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "lawbot serve: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return o, errUsage
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		fmt.Fprintln(stderr, "lawbot serve: --tls-cert and --tls-key go together")
		return o, errUsage
	}
	if err := finishModels(); err != nil {
		fmt.Fprintf(stderr, "lawbot serve: %v\n", err)
		return o, errUsage
	}
	o.Limits.NoIntrospection = !*introspection
	for _, s := range strings.Split(*origins, ",") {
		if s = strings.TrimSpace(s); s != "" {
			o.AllowedOrigins = append(o.AllowedOrigins, s)
		}
	}
	return o, nil
}

// serve listens at once — /healthz answers while the state loads — then, in the background,
// ingests the corpus when the state is missing or stale, loads the state, the indexes and the
// filter (training it when there is none), and marks the server ready. It returns when ctx ends
// and the server has shut down.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseServeFlags(args, stderr)
	if err != nil {
		return err
	}
	// The loader, the server's logs and the progress bars write concurrently.
	stdout, stderr = &lockedWriter{w: stdout}, &lockedWriter{w: stderr}
	var h slog.Handler = slog.NewTextHandler(stderr, nil)
	if o.LogJSON {
		h = slog.NewJSONHandler(stderr, nil)
	}
	log := slog.New(server.NewRedactingHandler(h))

	rate := o.Rate
	if rate <= 0 {
		rate = -1 // no limit
	}
	var srv *server.Server // the GraphQL hooks below run on requests, after srv is set
	var pipeline atomic.Pointer[advice.Pipeline]
	var modelManager atomic.Pointer[gpu.Manager]
	var loadFailed atomic.Bool
	gql := graph.NewHandler(graph.Config{
		Pipeline:        pipeline.Load,
		LoadFailed:      loadFailed.Load,
		MaxDepth:        o.MaxDepth,
		MaxComplexity:   o.MaxComplexity,
		Limits:          o.Limits,
		AllowedOrigins:  o.AllowedOrigins,
		RequestTimeout:  o.RequestTimeout,
		Client:          server.ClientOf,
		Charge:          func(ctx context.Context) (bool, time.Duration) { return srv.Charge(ctx) },
		MaxMessageBytes: o.MaxBody,
		MaxOpsPerSocket: o.MaxOpsPerSocket,
		MaxOpsPerClient: o.MaxOpsPerClient,
		PipelineSlots:   o.PipelineSlots,
		Observe:         func(stage string, d time.Duration) { srv.Observe(stage, d) },
		OnError:         func(code string) { srv.RecordError(code) },
	})
	srv = server.New(server.Options{
		Addr:              o.Addr,
		GraphQL:           gql,
		GraphiQL:          graph.GraphiQLHandler("/graphql"),
		Root:              ui.Handler(), // the web app (ui/dist), / and its shareable routes
		Models:            gpu.StatusHandler(modelManager.Load),
		MaxBodyBytes:      o.MaxBody,
		BodyTimeout:       o.BodyTimeout,
		MaxConnsPerClient: o.MaxConnsPerClient,
		Rate:              rate,
		Burst:             o.Burst,
		ShutdownTimeout:   o.ShutdownTimeout,
		TLSCert:           o.TLSCert,
		TLSKey:            o.TLSKey,
		Logger:            log,
		OnShutdown:        gql.Shutdown,
	})
	srv.SetNotReady("loading")
	srv.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "lawbot_dense_search_failures_total",
		Help: "Dense (vector store) searches that failed or timed out and fell back to lexical results.",
	}, func() float64 {
		return float64(counter(pipeline.Load(), func(c *advice.Counters) int64 { return c.DenseFailures.Load() }))
	}))
	srv.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "lawbot_tagger_failures_total",
		Help: "Statute tagger runs that failed; the ranking went on without the tagger.",
	}, func() float64 {
		return float64(counter(pipeline.Load(), func(c *advice.Counters) int64 { return c.TaggerFailures.Load() }))
	}))

	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	url := baseURL(ln.Addr(), srv.TLS())
	fmt.Fprintf(stdout, "listening on %s (loading; /healthz answers now, /readyz once the indexes are loaded)\n", url)

	// The trained models are closed after the server has finished the requests and streams in
	// flight, not when the shutdown begins.
	var loaded struct {
		sync.Mutex
		svc *service.Service
	}
	defer func() {
		loaded.Lock()
		defer loaded.Unlock()
		loaded.svc.Close()
	}()
	go func() {
		start := time.Now()
		svc, err := loadPipeline(ctx, o, srv, log, stdout, stderr)
		if svc != nil {
			loaded.Lock()
			loaded.svc = svc
			loaded.Unlock()
		}
		if err != nil {
			loadFailed.Store(true)
			srv.SetNotReady("loading failed: " + err.Error())
			log.Error("loading failed; /readyz stays 503", "err", err)
			return
		}
		pipeline.Store(svc.Pipeline)
		modelManager.Store(svc.Models.Manager)
		srv.SetReady(true)
		log.Info("ready", "took", time.Since(start).Round(time.Millisecond))
		fmt.Fprintf(stdout, "LawBot is ready at %s (GraphiQL at /graphiql)\n", url)
	}()
	return srv.Serve(ctx, ln)
}

// loadPipeline brings the state up to date with the corpus (when there is one), trains the
// filter when there is none, then opens the service, saying on /readyz what it is doing. The
// service comes back for the caller to close once the server has stopped; on an error it is
// already closed.
func loadPipeline(ctx context.Context, o serveOptions, srv *server.Server, log *slog.Logger, stdout, stderr io.Writer) (*service.Service, error) {
	dataDir, dataErr := law.ResolveDataDir(o.DataFlag)
	var st *state.State
	var ix *index.Lexical
	if dataErr == nil {
		srv.SetNotReady("checking the state against the corpus")
		rep, err := state.Ingest(state.IngestOptions{DataDir: dataDir, StateDir: o.StateDir, Log: stderr, Progress: stderr})
		if err != nil {
			return nil, fmt.Errorf("ingest: %w", err)
		}
		if !rep.UpToDate {
			printIngestReport(stdout, dataDir, rep)
		}
		srv.SetNotReady("checking the search indexes (building them takes a minute or two)")
		if st, ix, err = ensureIndexes(o.StateDir, !rep.UpToDate, stdout, stderr); err != nil {
			return nil, err
		}
	} else {
		log.Warn("no corpus to check the state against; serving the state as it is", "err", dataErr)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The filter is trained first when the state has none, so that the residency manager
	// finds it with the other models.
	srv.SetNotReady("checking the legal-question filter")
	ensureFilter(o.StateDir, dataDir, dataErr == nil, log, stdout, stderr)
	svc, err := service.Open(ctx, service.Config{StateDir: o.StateDir, State: st, Indexes: ix,
		VectorStore: o.VectorStore, Models: o.Models, Warmup: true, Status: srv.SetNotReady,
		Log: log, Stdout: stdout, Stderr: stderr})
	if err != nil {
		return nil, err
	}
	srv.MustRegister(gpu.NewCollector(svc.Models.Manager))
	if f := svc.Models.Filter; f != nil {
		srv.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "lawbot_filter_failures_total",
			Help: "Questions let through as legal because the legal-question filter could not be loaded.",
		}, func() float64 { return float64(f.Failures()) }))
	}
	return svc, nil
}

// ensureFilter trains the legal-question filter (as lawbot train --only filter does) when the
// state has none and there is a corpus to train it on. A failure is logged: without a filter
// every message is treated as legal.
func ensureFilter(stateDir, dataDir string, haveData bool, log *slog.Logger, stdout, stderr io.Writer) {
	path := models.FilterPath(stateDir)
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) || !haveData {
		return
	}
	log.Info("no legal-question filter yet; training it", "model", path)
	if err := trainFilter(trainOptions{DataDir: dataDir, StateDir: stateDir, Seed: 1, Morphemes: true}, stdout, stderr); err != nil {
		log.Warn("training the filter failed; every message is treated as legal", "err", err)
	}
}

// counter reads one of the loaded pipeline's counters; 0 while it loads.
func counter(p *advice.Pipeline, read func(*advice.Counters) int64) int64 {
	if p == nil || p.Counters == nil {
		return 0
	}
	return read(p.Counters)
}

// baseURL is how a person reaches addr: an unspecified host (":8080", "0.0.0.0") as localhost.
func baseURL(addr net.Addr, tls bool) string {
	scheme := "http"
	if tls {
		scheme = "https"
	}
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return scheme + "://" + addr.String() + "/"
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/"
}

// lockedWriter serialises writes from the loader, the logs and the progress bars.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
