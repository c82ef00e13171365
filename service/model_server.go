package service

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/lawbot-kr/lawbot/gpu"
	"github.com/lawbot-kr/lawbot/index"
	"github.com/lawbot-kr/lawbot/internal/swap"
	"github.com/lawbot-kr/lawbot/models"
	"github.com/lawbot-kr/lawbot/openai"
	"github.com/lawbot-kr/lawbot/server"
	"github.com/lawbot-kr/lawbot/state"
)

// ModelServerConfig is lawbot model-server: the state whose models it hosts, where it listens,
// and its limits.
type ModelServerConfig struct {
	StateDir string
	// Addr is HOST:PORT to listen on (port 0: any free port).
	Addr            string
	TLSCert, TLSKey string
	// Generator: tf (STATE/models/generator.v1), tf:NAME, or extractive/"" for none.
	Generator string
	// Encoder and Tagger: auto (hosted when the state has them) or off.
	Encoder, Tagger string
	BudgetBytes     int64
	Threads         int
	MaxBody         int64
	ShutdownTimeout time.Duration
	// MaxRunning/MaxWaiting bound embedding and tagging requests (openai.HandlerOptions);
	// GenWaiting the generations waiting for the one decoding (MODEL_BUSY beyond).
	MaxRunning, MaxWaiting, GenWaiting int
	LogJSON                            bool
	// OnListen gets the bound address (tests listen on port 0).
	OnListen       func(net.Addr)
	Stdout, Stderr io.Writer
	// Reload, AdminToken and DrainTimeout: as ServeConfig's (SIGHUP, POST /admin/reload, how
	// long replaced models wait for their requests).
	Reload       <-chan struct{}
	AdminToken   string
	DrainTimeout time.Duration

	metrics *openai.Metrics // shared by every handler a reload makes
}

// ModelServe hosts the state's TensorFlow models under the residency manager and serves them
// over the OpenAI-compatible API (package openai), with /healthz at once, /readyz once the
// resident models are loaded, and /metrics (requests in flight by endpoint, refusals, tokens,
// decode speed, time to first token, each model's memory). It returns when ctx ends and the
// requests in flight have finished.
func ModelServe(ctx context.Context, cfg ModelServerConfig) error {
	stdout, _, log := serverOutput(cfg.Stdout, cfg.Stderr, cfg.LogJSON)
	if cfg.MaxBody == 0 {
		cfg.MaxBody = 4 << 20 // a batch of texts to embed
	}
	// The loaded models, swapped by a reload: each request pinned to the set it began on, a
	// replaced set closed once its requests (generations included) have finished.
	var slot swap.Slot[*hosted]
	slot.Drain = cfg.DrainTimeout
	slot.Close = func(h *hosted, cut int64) {
		h.models.Close()
		log.Info("released the replaced models", "dir", h.dir, "requests_cut", cut)
	}
	defer slot.Shutdown()
	root := func(w http.ResponseWriter, r *http.Request) {
		if !slot.Pin(func(h *hosted) { h.api.ServeHTTP(w, r) }) {
			openai.WriteError(w, &openai.Error{Status: http.StatusServiceUnavailable, Code: openai.CodeModelBusy,
				Message: "the model server is loading its models"})
		}
	}
	manager := func() *gpu.Manager {
		if h, ok := slot.Current(); ok {
			return h.models.Manager
		}
		return nil
	}
	srv := server.New(server.Options{
		Addr:              cfg.Addr,
		Root:              http.HandlerFunc(root),
		Models:            gpu.StatusHandler(manager),
		Admin:             adminHandler(cfg.AdminToken, func(ctx context.Context) (Version, error) { return reloadModels(ctx, cfg, &slot, log) }),
		MaxBodyBytes:      cfg.MaxBody,
		Rate:              -1, // its clients are the API servers: no per-IP limit
		MaxConnsPerClient: -1,
		ShutdownTimeout:   cfg.ShutdownTimeout,
		TLSCert:           cfg.TLSCert,
		TLSKey:            cfg.TLSKey,
		Logger:            log,
	})
	metrics := openai.NewMetrics()
	cfg.metrics = metrics
	srv.MustRegister(metrics.Collectors()...)
	srv.MustRegister(gpu.NewCollectorOf(manager))
	srv.SetNotReady("loading the models")
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if cfg.OnListen != nil {
		cfg.OnListen(ln.Addr())
	}
	url := baseURL(ln.Addr(), srv.TLS())
	fmt.Fprintf(stdout, "model server listening on %s (loading; /readyz once the models are loaded)\n", url)

	var loading sync.WaitGroup
	defer loading.Wait() // before the slot's Shutdown (deferred earlier, run later)
	loading.Add(1)
	go func() {
		defer loading.Done()
		start := time.Now()
		h, err := loadHosted(ctx, cfg, log)
		if err != nil {
			srv.SetNotReady("loading failed: " + err.Error())
			log.Error("loading the models failed; /readyz stays 503", "err", err)
			return
		}
		slot.Install(h)
		srv.SetReady(true)
		log.Info("ready", "took", time.Since(start).Round(time.Millisecond), "models", h.ids)
		fmt.Fprintf(stdout, "model server ready at %s: %v\n", url, h.ids)
		reloadOn(ctx, cfg.Reload, func() { reloadModels(ctx, cfg, &slot, log) })
	}()
	return srv.Serve(ctx, ln)
}

// hosted is one loaded set of models and the handler over them.
type hosted struct {
	dir    string
	models *Models
	api    *openai.Handler
	ids    []string // "kind id" of each model, for the logs
}

// loadHosted loads the models of the state directory (a versioned root's current version).
func loadHosted(ctx context.Context, cfg ModelServerConfig, log *slog.Logger) (*hosted, error) {
	dir, err := state.ResolveStateDir(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	cfg.StateDir = dir
	m, served, err := loadServed(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	h := &hosted{dir: dir, models: m,
		api: openai.NewHandler(served, openai.HandlerOptions{MaxRunning: cfg.MaxRunning, MaxWaiting: cfg.MaxWaiting, Metrics: cfg.metrics})}
	for _, c := range h.api.Models().Data {
		h.ids = append(h.ids, c.Lawbot.Kind+" "+c.ID)
	}
	return h, nil
}

// reloadModels loads the models again (SIGHUP, POST /admin/reload) beside the serving ones and
// swaps them in; on an error the serving ones stay.
func reloadModels(ctx context.Context, cfg ModelServerConfig, slot *swap.Slot[*hosted], log *slog.Logger) (Version, error) {
	start := time.Now()
	h, err := loadHosted(ctx, cfg, log)
	if err != nil {
		log.Error("reload failed; the serving models stay", "err", err)
		return Version{}, err
	}
	slot.Install(h)
	log.Info("reloaded the models", "dir", h.dir, "models", h.ids, "took", time.Since(start).Round(time.Millisecond))
	return Version{ID: filepath.Base(h.dir), Dir: h.dir}, nil
}

// loadServed loads the models the model server hosts, resident ones first (LoadModels).
func loadServed(ctx context.Context, cfg ModelServerConfig, log *slog.Logger) (*Models, openai.Served, error) {
	found, err := StateModels(cfg.StateDir, TensorFlowAvailable())
	if err != nil {
		return nil, openai.Served{}, err
	}
	has := map[string]bool{}
	for _, sm := range found {
		has[sm.Name] = true
	}
	mc := ModelConfig{Embedder: "lsa", Tagger: "off", Generator: cfg.Generator, BudgetBytes: cfg.BudgetBytes, Threads: cfg.Threads,
		GeneratorLimits: models.GeneratorLimits{Waiting: cfg.GenWaiting}}
	if cfg.Encoder != "off" && has[models.EncoderModelName] {
		mc.Embedder = "encoder"
	}
	if cfg.Tagger != "off" && has[models.TaggerModelName] {
		mc.Tagger = "on"
	}
	m, err := LoadModels(ctx, cfg.StateDir, mc, log)
	if err != nil {
		return nil, openai.Served{}, err
	}
	var s openai.Served
	if m.Generator != nil {
		s.Generator = m.Generator
	}
	if m.Encoder != nil {
		v, err := index.EncoderVersion(m.Encoder.Dir())
		if err != nil {
			m.Close()
			return nil, openai.Served{}, err
		}
		s.Encoder, s.EncoderID = m.Encoder, models.EncoderModelName+"@"+v
	}
	if m.Tagger != nil {
		s.Tagger, s.TaggerID = m.Tagger, models.TaggerModelName
	}
	if s.Generator == nil && s.Encoder == nil && s.Tagger == nil {
		m.Close()
		return nil, openai.Served{}, fmt.Errorf("no model to serve in %s (train them, or give --generator tf)", cfg.StateDir)
	}
	return m, s, nil
}
