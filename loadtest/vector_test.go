package loadtest

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestVectors(t *testing.T) {
	rep, err := Vectors(context.Background(), VectorConfig{N: 2000, Dim: 16, Queries: 20, K: 10, Clusters: 20, Spread: 0.5, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if rep.N != 2000 || rep.Dim != 16 || rep.Queries != 20 || rep.K != 10 || rep.Cores < 1 {
		t.Errorf("report %+v", rep)
	}
	if len(rep.Backends) != 1 || rep.Backends[0].Name != "embedded" {
		t.Fatalf("backends = %+v, want embedded alone", rep.Backends)
	}
	if b := rep.Backends[0]; b.Recall < 0.9 || b.P50 <= 0 || b.P99 < b.P50 || b.BuildS <= 0 || b.Params == "" {
		t.Errorf("implausible figures: %+v", b)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Vectors(ctx, VectorConfig{N: 100, Dim: 4, Queries: 5, K: 3, Clusters: 2, Seed: 1}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err %v", err)
	}
}

func TestVectorConfigCheck(t *testing.T) {
	ok := VectorConfig{N: 10, Dim: 4, Queries: 1, K: 1, Clusters: 1}
	if err := ok.Check(); err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(*VectorConfig){
		"no vectors":     func(c *VectorConfig) { c.N = 0 },
		"too many":       func(c *VectorConfig) { c.N = MaxVectors + 1 },
		"dim 1":          func(c *VectorConfig) { c.Dim = 1 },
		"dim too large":  func(c *VectorConfig) { c.Dim = MaxVectorDim + 1 },
		"no queries":     func(c *VectorConfig) { c.Queries = 0 },
		"k 0":            func(c *VectorConfig) { c.K = 0 },
		"no clusters":    func(c *VectorConfig) { c.Clusters = 0 },
		"negative noise": func(c *VectorConfig) { c.Spread = -1 },
	} {
		c := ok
		change(&c)
		if c.Check() == nil {
			t.Errorf("%s: accepted %+v", name, c)
		}
	}
}

func TestExactTopK(t *testing.T) {
	data := [][]float32{{1, 0}, {0, 1}, {0.7, 0.7}, {-1, 0}}
	got := exactTopK(data, [][]float32{{1, 0}, {0, 1}}, 2)
	if want := [][]int{{0, 2}, {1, 2}}; !slices.EqualFunc(got, want, slices.Equal[[]int]) {
		t.Errorf("exactTopK = %v, want %v", got, want)
	}
}

func TestFloorPercentile(t *testing.T) {
	sorted := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, c := range []struct{ p, want float64 }{{0, 1}, {0.5, 6}, {0.99, 10}, {1, 10}} {
		if got := floorPercentile(sorted, c.p); got != c.want {
			t.Errorf("floorPercentile(%v) = %v, want %v", c.p, got, c.want)
		}
	}
}

// TestVectorsMilvus loads a real Milvus server once and searches it at both consistency
// levels; without LAWBOT_MILVUS_ADDR it skips.
func TestVectorsMilvus(t *testing.T) {
	addr := os.Getenv("LAWBOT_MILVUS_ADDR")
	if addr == "" {
		t.Skip("LAWBOT_MILVUS_ADDR not set: no Milvus server to bench against")
	}
	cfg := VectorConfig{N: 1500, Dim: 16, Queries: 10, K: 10, Clusters: 10, Spread: 0.5, Seed: 1,
		Milvus: addr, MilvusConsistency: []string{"bounded", "strong"}}
	rep, err := Vectors(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Backends) != 3 {
		t.Fatalf("backends = %+v, want embedded and milvus twice", rep.Backends)
	}
	for i, level := range cfg.MilvusConsistency {
		b := rep.Backends[1+i]
		if b.Name != "milvus" || !strings.Contains(b.Params, "consistency="+level) {
			t.Errorf("backend %d = %+v, want milvus at %s", 1+i, b, level)
		}
		// Every vector was loaded and indexed before the queries: recall is that of HNSW.
		if b.Recall < 0.9 || b.P50 <= 0 || b.P99 < b.P50 || b.InsertS <= 0 || b.BuildS < b.InsertS {
			t.Errorf("implausible figures at %s: %+v", level, b)
		}
	}
}

func TestVectorConfigRefusesConsistency(t *testing.T) {
	c := VectorConfig{N: 10, Dim: 4, Queries: 1, K: 1, Clusters: 1, MilvusConsistency: []string{"eventually"}}
	if c.Check() == nil {
		t.Error("consistency eventually accepted")
	}
}
