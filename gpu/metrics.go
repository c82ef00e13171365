package gpu

import "github.com/prometheus/client_golang/prometheus"

// Collector exposes the Manager's models in /metrics: the same facts as `lawbot models`, read
// at scrape time so they are never stale.
type Collector struct {
	m func() *Manager // nil or returning nil: no models to report

	loaded, resident, bytes, inUse, loads, evictions *prometheus.Desc
	budget, used                                     *prometheus.Desc
}

// NewCollector returns a collector of m's models; register it with the server's registry.
func NewCollector(m *Manager) *Collector {
	return NewCollectorOf(func() *Manager { return m })
}

// NewCollectorOf collects the models of whichever manager current returns at scrape time (a
// server that swaps state versions swaps managers); nil reports nothing.
func NewCollectorOf(current func() *Manager) *Collector {
	labels := []string{"name", "backend", "device"}
	return &Collector{
		m: current,
		loaded: prometheus.NewDesc("lawbot_model_loaded",
			"1 while the model is loaded.", labels, nil),
		resident: prometheus.NewDesc("lawbot_model_resident",
			"1 for a resident model (loaded at start, never evicted).", labels, nil),
		bytes: prometheus.NewDesc("lawbot_model_bytes",
			"Memory the model holds when loaded (measured once loaded, else the estimate).", labels, nil),
		inUse: prometheus.NewDesc("lawbot_model_in_use",
			"Users holding the model now.", labels, nil),
		loads: prometheus.NewDesc("lawbot_model_loads_total",
			"Successful loads of the model.", labels, nil),
		evictions: prometheus.NewDesc("lawbot_model_evictions_total",
			"Unloads of the model: reason budget (room for another model) or idle (idle timeout).",
			append(labels, "reason"), nil),
		budget: prometheus.NewDesc("lawbot_model_budget_bytes",
			"Memory budget of the loaded models together (0: unbounded).", nil, nil),
		used: prometheus.NewDesc("lawbot_model_used_bytes",
			"Memory charged to the budget now (loaded models and loads in flight).", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.loaded, c.resident, c.bytes, c.inUse, c.loads, c.evictions, c.budget, c.used} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	m := c.m()
	if m == nil {
		return
	}
	for _, s := range m.Status() {
		l := []string{s.Name, s.Backend, s.Device}
		ch <- prometheus.MustNewConstMetric(c.loaded, prometheus.GaugeValue, boolValue(s.Loaded), l...)
		ch <- prometheus.MustNewConstMetric(c.resident, prometheus.GaugeValue, boolValue(s.Resident), l...)
		ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(s.Bytes), l...)
		ch <- prometheus.MustNewConstMetric(c.inUse, prometheus.GaugeValue, float64(s.InUse), l...)
		ch <- prometheus.MustNewConstMetric(c.loads, prometheus.CounterValue, float64(s.Loads), l...)
		ch <- prometheus.MustNewConstMetric(c.evictions, prometheus.CounterValue, float64(s.Evictions), append(l, "budget")...)
		ch <- prometheus.MustNewConstMetric(c.evictions, prometheus.CounterValue, float64(s.IdleReleases), append(l, "idle")...)
	}
	used, budget := m.Usage()
	ch <- prometheus.MustNewConstMetric(c.budget, prometheus.GaugeValue, float64(budget))
	ch <- prometheus.MustNewConstMetric(c.used, prometheus.GaugeValue, float64(used))
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
