package gpu

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestCollector(t *testing.T) {
	lab, clock := newFakeLab(t, 1000), newFakeClock()
	m := NewManager(Options{BudgetBytes: 1000, IdleTimeout: time.Minute, Now: clock.Now})
	defer m.Close()
	mustRegister(t, m,
		Spec{Name: "encoder", Backend: BackendTensorFlow, Resident: true, Bytes: 300, Load: lab.loader("encoder", 320, nil)},
		Spec{Name: "lsa", Backend: BackendGo, Bytes: 250, Load: lab.loader("lsa", 250, nil)},
		Spec{Name: "big", Backend: BackendGo, Bytes: 600, Load: lab.loader("big", 600, nil)})
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, release := mustAcquire(t, m, "lsa")
	release()
	clock.Advance(time.Minute)
	m.Sweep() // lsa idles out
	_, release = mustAcquire(t, m, "lsa")
	release()
	clock.Advance(time.Second)
	_, holdBig := mustAcquire(t, m, "big") // evicts lsa
	defer holdBig()

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(NewCollector(m))
	want := `
# HELP lawbot_model_budget_bytes Memory budget of the loaded models together (0: unbounded).
# TYPE lawbot_model_budget_bytes gauge
lawbot_model_budget_bytes 1000
# HELP lawbot_model_bytes Memory the model holds when loaded (measured once loaded, else the estimate).
# TYPE lawbot_model_bytes gauge
lawbot_model_bytes{backend="go",device="CPU:0",name="big"} 600
lawbot_model_bytes{backend="go",device="CPU:0",name="lsa"} 250
lawbot_model_bytes{backend="tensorflow",device="CPU:0",name="encoder"} 320
# HELP lawbot_model_evictions_total Unloads of the model: reason budget (room for another model) or idle (idle timeout).
# TYPE lawbot_model_evictions_total counter
lawbot_model_evictions_total{backend="go",device="CPU:0",name="big",reason="budget"} 0
lawbot_model_evictions_total{backend="go",device="CPU:0",name="big",reason="idle"} 0
lawbot_model_evictions_total{backend="go",device="CPU:0",name="lsa",reason="budget"} 1
lawbot_model_evictions_total{backend="go",device="CPU:0",name="lsa",reason="idle"} 1
lawbot_model_evictions_total{backend="tensorflow",device="CPU:0",name="encoder",reason="budget"} 0
lawbot_model_evictions_total{backend="tensorflow",device="CPU:0",name="encoder",reason="idle"} 0
# HELP lawbot_model_in_use Users holding the model now.
# TYPE lawbot_model_in_use gauge
lawbot_model_in_use{backend="go",device="CPU:0",name="big"} 1
lawbot_model_in_use{backend="go",device="CPU:0",name="lsa"} 0
lawbot_model_in_use{backend="tensorflow",device="CPU:0",name="encoder"} 0
# HELP lawbot_model_loaded 1 while the model is loaded.
# TYPE lawbot_model_loaded gauge
lawbot_model_loaded{backend="go",device="CPU:0",name="big"} 1
lawbot_model_loaded{backend="go",device="CPU:0",name="lsa"} 0
lawbot_model_loaded{backend="tensorflow",device="CPU:0",name="encoder"} 1
# HELP lawbot_model_loads_total Successful loads of the model.
# TYPE lawbot_model_loads_total counter
lawbot_model_loads_total{backend="go",device="CPU:0",name="big"} 1
lawbot_model_loads_total{backend="go",device="CPU:0",name="lsa"} 2
lawbot_model_loads_total{backend="tensorflow",device="CPU:0",name="encoder"} 1
# HELP lawbot_model_resident 1 for a resident model (loaded at start, never evicted).
# TYPE lawbot_model_resident gauge
lawbot_model_resident{backend="go",device="CPU:0",name="big"} 0
lawbot_model_resident{backend="go",device="CPU:0",name="lsa"} 0
lawbot_model_resident{backend="tensorflow",device="CPU:0",name="encoder"} 1
# HELP lawbot_model_used_bytes Memory charged to the budget now (loaded models and loads in flight).
# TYPE lawbot_model_used_bytes gauge
lawbot_model_used_bytes 920
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	if n, err := testutil.GatherAndCount(reg); err != nil || n != 3*7+2 {
		t.Errorf("gathered %d series (%v), want 23", n, err)
	}
}
