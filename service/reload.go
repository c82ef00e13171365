package service

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/lawbot-kr/lawbot/state"
	"github.com/prometheus/client_golang/prometheus"
)

// newReloadsTotal counts a server's reloads by result.
func newReloadsTotal() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lawbot_reloads_total",
		Help: "State reloads (SIGHUP, POST /admin/reload) by result: ok, or failed (the old version kept serving).",
	}, []string{"result"})
}

// reload opens the version the state directory points at now, beside the serving one, and
// swaps it in; the old one finishes its requests, then is closed. On an error the old version
// keeps serving. One reload at a time.
func reload(ctx context.Context, cfg ServeConfig, vs *versions, log *slog.Logger) (Version, error) {
	vs.reload.Lock()
	defer vs.reload.Unlock()
	start := time.Now()
	fail := func(err error) (Version, error) {
		vs.reloads.WithLabelValues("failed").Inc()
		log.Error("reload failed; the serving version stays", "err", err)
		return Version{}, err
	}
	dir, err := state.ResolveStateDir(cfg.StateDir)
	if err != nil {
		return fail(err)
	}
	from := ""
	if l := vs.current(); l != nil {
		from = l.version.ID
	}
	log.Info("reloading the state", "dir", dir, "serving", from)
	svc, err := openVersion(ctx, cfg, dir, nil, log, nil, nil)
	if err != nil {
		return fail(err)
	}
	v := describeVersion(dir, svc.Pipeline)
	vs.install(svc, v)
	vs.reloads.WithLabelValues("ok").Inc()
	log.Info("reloaded", "version", v.ID, "was", from, "took", time.Since(start).Round(time.Millisecond))
	return v, nil
}

// adminHandler serves POST /admin/reload for requests carrying the token; without a token there
// is no admin endpoint (nil: 404).
func adminHandler(token string, reload func(context.Context) (Version, error)) http.Handler {
	if token == "" {
		return nil
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /admin/reload", func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			adminJSON(w, http.StatusUnauthorized, map[string]any{"error": map[string]string{"code": "UNAUTHORIZED", "message": "a valid admin token is required"}})
			return
		}
		// The reload outlives a client that stops waiting: a half-done swap helps nobody.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Minute)
		defer cancel()
		start := time.Now()
		v, err := reload(ctx)
		if err != nil {
			adminJSON(w, http.StatusInternalServerError, map[string]any{"error": map[string]string{"code": "RELOAD_FAILED", "message": err.Error()}})
			return
		}
		adminJSON(w, http.StatusOK, map[string]any{"version": v.ID, "dir": v.Dir, "took_ms": time.Since(start).Milliseconds()})
	})
	return mux
}

func adminJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// versionMetrics reports the serving version (lawbot_state_version_info{version} 1, and its
// corpus) and the filter's failures of the serving version.
func versionMetrics(vs *versions) prometheus.Collector {
	return versionCollector{vs: vs,
		info:    prometheus.NewDesc("lawbot_state_version_info", "1 for the state version that serves.", []string{"version"}, nil),
		records: prometheus.NewDesc("lawbot_state_records", "Records of the serving version's corpus, by kind.", []string{"kind"}, nil),
		filter: prometheus.NewDesc("lawbot_filter_failures_total",
			"Questions let through as legal because the legal-question filter could not be loaded (the serving version's).", nil, nil),
	}
}

type versionCollector struct {
	vs                    *versions
	info, records, filter *prometheus.Desc
}

func (c versionCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.info
	ch <- c.records
	ch <- c.filter
}

func (c versionCollector) Collect(ch chan<- prometheus.Metric) {
	l := c.vs.current()
	if l == nil {
		return
	}
	v := l.version
	ch <- prometheus.MustNewConstMetric(c.info, prometheus.GaugeValue, 1, v.ID)
	for kind, n := range map[string]int{"statutes": v.Corpus.Statutes, "precedents": v.Corpus.Precedents, "qa": v.Corpus.QA} {
		ch <- prometheus.MustNewConstMetric(c.records, prometheus.GaugeValue, float64(n), kind)
	}
	if f := l.svc.Models.Filter; f != nil {
		ch <- prometheus.MustNewConstMetric(c.filter, prometheus.CounterValue, float64(f.Failures()))
	}
}

// reloadOn calls reload each time signals receives, until ctx ends or signals is closed (a nil
// channel: until ctx ends). A failed reload is logged by reload itself; the old version serves.
func reloadOn(ctx context.Context, signals <-chan struct{}, reload func()) {
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-signals:
			if !ok {
				return
			}
			reload()
		}
	}
}
