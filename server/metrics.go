package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are what /metrics exposes. Paths are the routes, never raw URLs, so a scanner cannot
// blow up the label set.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec   // path, status
	duration *prometheus.HistogramVec // path
	errors   *prometheus.CounterVec   // code
	stages   *prometheus.HistogramVec // stage
	inFlight prometheus.Gauge
	ready    prometheus.Gauge
}

func newMetrics(reg *prometheus.Registry) *metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	m := &metrics{
		registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lawbot_http_requests_total", Help: "HTTP requests by route and status.",
		}, []string{"path", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "lawbot_http_request_duration_seconds", Help: "HTTP request duration by route (streams: until they end).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"path"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lawbot_errors_total", Help: "Errors answered, by extensions.code.",
		}, []string{"code"}),
		stages: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "lawbot_stage_duration_seconds", Help: "Duration of each advice pipeline stage.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"stage"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lawbot_http_in_flight_requests", Help: "Requests being served now, streams and websockets included.",
		}),
		ready: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lawbot_ready", Help: "1 once the indexes are loaded and /readyz answers 200.",
		}),
	}
	reg.MustRegister(m.requests, m.duration, m.errors, m.stages, m.inFlight, m.ready)
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// routeLabel maps a path onto the routes the mux serves, everything else to "other".
func routeLabel(path string) string {
	switch path {
	case "/graphql", "/graphiql", "/healthz", "/readyz", "/metrics", "/models", "/":
		return path
	}
	return "other"
}

func (m *metrics) observeRequest(path string, status int, d time.Duration) {
	route := routeLabel(path)
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

// instrument counts requests by route and status, times them and tracks those in flight (the
// gauge, and the counter graceful shutdown waits on).
func instrument(m *metrics, inFlight *inFlight, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := wrap(w)
		inFlight.add(1)
		m.inFlight.Inc()
		start := time.Now()
		defer func() {
			m.inFlight.Dec()
			inFlight.add(-1)
			m.observeRequest(r.URL.Path, rw.statusCode(), time.Since(start))
		}()
		next.ServeHTTP(rw, r)
	})
}
