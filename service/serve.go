package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lawbot-kr/lawbot/internal/syncio"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lawbot-kr/lawbot/advice"
	"github.com/lawbot-kr/lawbot/gpu"
	"github.com/lawbot-kr/lawbot/graph"
	"github.com/lawbot-kr/lawbot/index"
	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/models"
	"github.com/lawbot-kr/lawbot/server"
	"github.com/lawbot-kr/lawbot/state"
	"github.com/lawbot-kr/lawbot/training"
	"github.com/lawbot-kr/lawbot/ui"
)

// ServeConfig is lawbot serve: where the corpus and the state are, the HTTP server's limits,
// the GraphQL API's, and the models'.
type ServeConfig struct {
	// DataDir is the corpus directory ("": $LAWBOT_DATA, else law.DefaultDataDir); the state is
	// ingested from it when missing or stale. Without a corpus the state is served as it is.
	DataDir  string
	StateDir string
	// Addr is HOST:PORT to listen on (port 0: any free port).
	Addr            string
	TLSCert, TLSKey string
	// Rate is requests per second per client IP (≤ 0: no limit); Burst what a client may send at
	// once.
	Rate              float64
	Burst             int
	MaxBody           int64
	BodyTimeout       time.Duration
	MaxConnsPerClient int
	ShutdownTimeout   time.Duration
	// AllowedOrigins are the browser origins allowed to open websockets (nil: the server's own).
	AllowedOrigins          []string
	RequestTimeout          time.Duration
	MaxDepth, MaxComplexity int
	Limits                  graph.Limits
	MaxOpsPerSocket         int
	MaxOpsPerClient         int
	PipelineSlots           int
	// LogJSON writes the logs as JSON lines instead of text.
	LogJSON     bool
	VectorStore string
	Models      ModelConfig
	// Params override pipeline parameters, name=value (advice.Params.Set).
	Params []string
	// TrustedProxies are the proxies whose X-Forwarded-For names the client (per-client
	// limits); none: the remote address is the client.
	TrustedProxies []netip.Prefix
	// Reload, when it receives, loads the state again (the version `current` points at in a
	// versioned state root) and swaps it in without dropping a request (SIGHUP).
	Reload <-chan struct{}
	// AdminToken turns on POST /admin/reload for requests with "Authorization: Bearer TOKEN";
	// empty: no admin endpoint.
	AdminToken string
	// DrainTimeout bounds how long a replaced version waits for its requests before it is
	// closed (default 2 minutes).
	DrainTimeout time.Duration
	// Stdout receives the few lines a person starting the server reads (where it listens, when
	// it is ready, what loading built); Stderr the logs and the progress bars. Nil: discarded.
	Stdout, Stderr io.Writer
}

// Serve listens at once — /healthz answers while the state loads — then, in the background,
// ingests the corpus when the state is missing or stale, loads the state, the indexes and the
// filter (training it when there is none), opens the service and marks the server ready. It
// returns when ctx ends and the server has shut down; the models are closed after the requests
// and streams in flight have finished.
func Serve(ctx context.Context, cfg ServeConfig) error {
	stdout, stderr, log := serverOutput(cfg.Stdout, cfg.Stderr, cfg.LogJSON)

	rate := cfg.Rate
	if rate <= 0 {
		rate = -1 // no limit
	}
	var srv *server.Server // the GraphQL hooks below run on requests, after srv is set
	vs := newVersions(cfg.DrainTimeout, func(v Version, cut int64) {
		debug.FreeOSMemory() // the replaced version's indexes go back to the system now, not in minutes
		log.Info("released a replaced state version", "version", v.ID, "requests_cut", cut)
	})
	pipeline := func() *advice.Pipeline {
		if l := vs.current(); l != nil {
			return l.svc.Pipeline
		}
		return nil
	}
	modelManager := func() *gpu.Manager {
		if l := vs.current(); l != nil {
			return l.svc.Models.Manager
		}
		return nil
	}
	var loadFailed atomic.Bool
	gql := graph.NewHandler(graph.Config{
		Backend:         vs.backend(),
		LoadFailed:      loadFailed.Load,
		MaxDepth:        cfg.MaxDepth,
		MaxComplexity:   cfg.MaxComplexity,
		Limits:          cfg.Limits,
		AllowedOrigins:  cfg.AllowedOrigins,
		RequestTimeout:  cfg.RequestTimeout,
		Client:          server.ClientOf,
		Charge:          func(ctx context.Context) (bool, time.Duration) { return srv.Charge(ctx) },
		MaxMessageBytes: cfg.MaxBody,
		MaxOpsPerSocket: cfg.MaxOpsPerSocket,
		MaxOpsPerClient: cfg.MaxOpsPerClient,
		PipelineSlots:   cfg.PipelineSlots,
		Observe:         func(stage string, d time.Duration) { srv.Observe(stage, d) },
		OnError:         func(code string) { srv.RecordError(code) },
	})
	srv = server.New(server.Options{
		Addr:              cfg.Addr,
		GraphQL:           gql,
		GraphiQL:          graph.GraphiQLHandler("/graphql"),
		Root:              ui.Handler(), // the web app (ui/dist), / and its shareable routes
		Models:            gpu.StatusHandler(modelManager),
		Admin:             adminHandler(cfg.AdminToken, func(ctx context.Context) (Version, error) { return reload(ctx, cfg, vs, log) }),
		MaxBodyBytes:      cfg.MaxBody,
		BodyTimeout:       cfg.BodyTimeout,
		MaxConnsPerClient: cfg.MaxConnsPerClient,
		Rate:              rate,
		Burst:             cfg.Burst,
		ShutdownTimeout:   cfg.ShutdownTimeout,
		TLSCert:           cfg.TLSCert,
		TLSKey:            cfg.TLSKey,
		Logger:            log,
		OnShutdown:        gql.Shutdown,
		ClientKey:         clientKey(cfg.TrustedProxies),
	})
	srv.SetNotReady("loading")
	srv.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "lawbot_dense_search_failures_total",
		Help: "Dense (vector store) searches that failed or timed out and fell back to lexical results.",
	}, func() float64 {
		return float64(counter(pipeline(), func(c *advice.Counters) int64 { return c.DenseFailures.Load() }))
	}))
	srv.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "lawbot_tagger_failures_total",
		Help: "Statute tagger runs that failed; the ranking went on without the tagger.",
	}, func() float64 {
		return float64(counter(pipeline(), func(c *advice.Counters) int64 { return c.TaggerFailures.Load() }))
	}))
	srv.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "lawbot_generator_failures_total",
		Help: "Generations that failed or were refused (busy, prompt too long, too slow); the extractive answer was given instead.",
	}, func() float64 {
		return float64(counter(pipeline(), func(c *advice.Counters) int64 { return c.GeneratorFailures.Load() }))
	}))

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	url := baseURL(ln.Addr(), srv.TLS())
	fmt.Fprintf(stdout, "listening on %s (loading; /healthz answers now, /readyz once the indexes are loaded)\n", url)

	srv.MustRegister(gpu.NewCollectorOf(modelManager))
	srv.MustRegister(versionMetrics(vs))
	srv.MustRegister(vs.reloads)

	// The trained models are closed after the server has finished the requests and streams in
	// flight, not when the shutdown begins; a version replaced by a reload, once its own
	// requests have finished.
	var loading sync.WaitGroup
	defer func() {
		loading.Wait()
		vs.close()
	}()
	loading.Add(1)
	go func() {
		defer loading.Done()
		start := time.Now()
		svc, dir, err := load(ctx, cfg, srv, log, stdout, stderr)
		if err != nil {
			loadFailed.Store(true)
			srv.SetNotReady("loading failed: " + err.Error())
			log.Error("loading failed; /readyz stays 503", "err", err)
			return
		}
		vs.install(svc, describeVersion(dir, svc.Pipeline))
		srv.SetReady(true)
		log.Info("ready", "took", time.Since(start).Round(time.Millisecond), "version", vs.current().version.ID)
		fmt.Fprintf(stdout, "LawBot is ready at %s (GraphiQL at /graphiql)\n", url)
		reloadOn(ctx, cfg.Reload, func() { reload(ctx, cfg, vs, log) })
	}()
	return srv.Serve(ctx, ln)
}

// load brings the state up to date with the corpus (when there is one), trains the filter when
// there is none, then opens the service, saying on /readyz what it is doing. The service comes
// back for the caller to close once the server has stopped; on an error it is already closed.
func load(ctx context.Context, cfg ServeConfig, srv *server.Server, log *slog.Logger, stdout, stderr io.Writer) (*Service, string, error) {
	dir, err := state.ResolveStateDir(cfg.StateDir)
	if err != nil {
		return nil, "", err
	}
	if state.IsRoot(cfg.StateDir) { // a versioned root: lawbot update built the version, complete
		srv.SetNotReady("loading state version " + filepath.Base(dir))
		svc, err := openVersion(ctx, cfg, dir, srv.SetNotReady, log, stdout, stderr)
		return svc, dir, err
	}
	dataDir, dataErr := law.ResolveDataDir(cfg.DataDir)
	var st *state.State
	var ix *index.Lexical
	// Servers sharing the state prepare it one at a time: the first ingests, builds and trains
	// what is missing, the next find it done (the lock is held until the service is open).
	srv.SetNotReady("waiting for another server preparing this state")
	unlock, err := state.LockWait(ctx, cfg.StateDir, state.PrepareLockFile)
	if err != nil {
		return nil, "", err
	}
	defer unlock() // after Open, which may still build the encoder's vectors
	if dataErr == nil {
		srv.SetNotReady("checking the state against the corpus")
		var rep *state.IngestReport
		rep, err = ingestWhenFree(ctx, state.IngestOptions{DataDir: dataDir, StateDir: cfg.StateDir, Log: stderr, Progress: stderr}, log)
		if err != nil {
			return nil, "", fmt.Errorf("ingest: %w", err)
		}
		if !rep.UpToDate {
			rep.Print(stdout, dataDir)
		}
		srv.SetNotReady("checking the search indexes (building them takes a minute or two)")
		if st, ix, err = EnsureIndexes(ctx, cfg.StateDir, !rep.UpToDate, stdout, stderr); err != nil {
			return nil, "", err
		}
	} else {
		log.Warn("no corpus to check the state against; serving the state as it is", "err", dataErr)
	}
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	// The filter is trained first when the state has none, so that the residency manager
	// finds it with the other models.
	srv.SetNotReady("checking the legal-question filter")
	ensureFilter(ctx, cfg.StateDir, dataDir, dataErr == nil, log, stdout, stderr)
	svc, err := Open(ctx, Config{StateDir: cfg.StateDir, State: st, Indexes: ix,
		VectorStore: cfg.VectorStore, Models: cfg.Models, Params: cfg.Params, Warmup: true, Status: srv.SetNotReady,
		Log: log, Stdout: stdout, Stderr: stderr})
	return svc, cfg.StateDir, err
}

// openVersion opens an already built state version (a reload, or a versioned root's current).
func openVersion(ctx context.Context, cfg ServeConfig, dir string, status func(string), log *slog.Logger, stdout, stderr io.Writer) (*Service, error) {
	return Open(ctx, Config{StateDir: dir, VectorStore: cfg.VectorStore, Models: cfg.Models, Params: cfg.Params,
		Warmup: true, Status: status, Log: log, Stdout: stdout, Stderr: stderr})
}

// ensureFilter trains the legal-question filter (as lawbot train --only filter does) when the
// state has none and there is a corpus to train it on. A failure is logged: without a filter
// every message is treated as legal.
func ensureFilter(ctx context.Context, stateDir, dataDir string, haveData bool, log *slog.Logger, stdout, stderr io.Writer) {
	path := models.FilterPath(stateDir)
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) || !haveData {
		return
	}
	log.Info("no legal-question filter yet; training it", "model", path)
	cfg := training.Config{DataDir: dataDir, StateDir: stateDir, Seed: 1, Morphemes: true, Stdout: stdout, Stderr: stderr}
	if err := training.TrainFilter(ctx, cfg); err != nil {
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

// clientKey is how the per-client limits name a client: behind trusted proxies, the address
// they forward; else the remote address (nil: the server's default).
func clientKey(trusted []netip.Prefix) func(*http.Request) string {
	if len(trusted) == 0 {
		return nil
	}
	return server.ForwardedClient(trusted)
}

// serverOutput is a server's output: stdout and stderr safe for concurrent writers (the loader,
// the logs and the progress bars write at once; nil discards) and the redacting logger on
// stderr, as text or JSON lines.
func serverOutput(out, errOut io.Writer, logJSON bool) (stdout, stderr io.Writer, log *slog.Logger) {
	if out == nil {
		out = io.Discard
	}
	if errOut == nil {
		errOut = io.Discard
	}
	stdout, stderr = &syncio.Writer{W: out}, &syncio.Writer{W: errOut}
	var h slog.Handler = slog.NewTextHandler(stderr, nil)
	if logJSON {
		h = slog.NewJSONHandler(stderr, nil)
	}
	return stdout, stderr, slog.New(server.NewRedactingHandler(h))
}

// ingestWhenFree brings the state up to date, waiting while another process (a second server on
// the same state, lawbot ingest) holds its lock: once that one is done, the check finds the state
// current. It gives up when ctx ends.
func ingestWhenFree(ctx context.Context, opt state.IngestOptions, log *slog.Logger) (*state.IngestReport, error) {
	for waited := false; ; waited = true {
		rep, err := state.Ingest(opt)
		if !errors.Is(err, state.ErrLocked) {
			return rep, err
		}
		if !waited {
			log.Info("another lawbot is writing this state; waiting for it", "state", opt.StateDir)
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(500 * time.Millisecond):
		}
	}
}
