package loadtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lawbot-kr/lawbot/internal/synthvec"
	"github.com/lawbot-kr/lawbot/search"
)

// Bounds that keep lawbot bench vector within one machine's memory and patience.
const (
	MaxVectors   = 2_000_000
	MaxVectorDim = 4096
)

// newMilvusStore opens the Milvus backend; a variable so that a build without it could say so.
var newMilvusStore func(ctx context.Context, addr, collection string, dim int, opt search.MilvusOptions) (search.Store, error) = search.NewMilvusWith

// flusher is a store that indexes what it was given only once told to (Milvus).
type flusher interface {
	Flush(ctx context.Context) error
}

// VectorReport is what lawbot bench vector prints (--json: this object).
type VectorReport struct {
	N        int             `json:"n"`
	Dim      int             `json:"dim"`
	Queries  int             `json:"queries"`
	K        int             `json:"k"`
	Clusters int             `json:"clusters"`
	Cores    int             `json:"cores"`
	Backends []VectorBackend `json:"backends"`
}

// VectorBackend is one vector store's figures.
type VectorBackend struct {
	Name       string  `json:"name"`
	Recall     float64 `json:"recall_at_10"` // recall@k against exact search; k is 10 unless --k says otherwise
	P50        float64 `json:"p50_ms"`
	P99        float64 `json:"p99_ms"`
	BuildS     float64 `json:"build_s"`            // until every vector is indexed and searchable
	InsertS    float64 `json:"insert_s,omitempty"` // the upserts alone, where indexing comes after (Milvus)
	RSSMB      float64 `json:"rss_mb"`             // growth of this process's resident memory over the build: the store's own cost in process
	Params     string  `json:"params,omitempty"`
	BuildRSSMB float64 `json:"peak_rss_mb,omitempty"` // the process's peak, data and ground truth included
}

// VectorConfig is one vector benchmark: synthetic clustered vectors indexed by the embedded
// HNSW store (and a Milvus server when Milvus is set), then queried one at a time and scored
// against exact search.
type VectorConfig struct {
	N, Dim, Queries, K int
	// Clusters is how many Gaussian clusters the vectors are drawn around; Spread the noise norm
	// relative to a cluster centre.
	Clusters int
	Spread   float64
	Seed     uint64
	// M, EfConstruction and EfSearch tune the HNSW graph (0: the store's defaults).
	M, EfConstruction, EfSearch int
	// Milvus is a Milvus server's host:port to bench as well ("": none), loaded once and then
	// searched at each of MilvusConsistency ("bounded", "strong"; none: bounded).
	Milvus            string
	MilvusConsistency []string
}

// Check reports a configuration out of bounds.
func (c VectorConfig) Check() error {
	if c.N < 1 || c.N > MaxVectors || c.Dim < 2 || c.Dim > MaxVectorDim || c.Queries < 1 || c.Queries > 10_000 ||
		c.K < 1 || c.K > 1000 || c.Clusters < 1 || c.Spread < 0 {
		return fmt.Errorf("need 1 ≤ n ≤ %d, 2 ≤ dim ≤ %d, 1 ≤ queries ≤ 10000, 1 ≤ k ≤ 1000, clusters ≥ 1, spread ≥ 0", MaxVectors, MaxVectorDim)
	}
	for _, l := range c.MilvusConsistency {
		if l != "bounded" && l != "strong" {
			return fmt.Errorf("milvus consistency %q: bounded or strong", l)
		}
	}
	return nil
}

// Vectors runs the benchmark; a cancelled ctx stops it between batches and queries.
func Vectors(ctx context.Context, cfg VectorConfig) (VectorReport, error) {
	if err := cfg.Check(); err != nil {
		return VectorReport{}, err
	}
	if cfg.Milvus != "" && newMilvusStore == nil {
		return VectorReport{}, errors.New("--milvus: milvus backend not built in")
	}
	set := synthvec.New(cfg.Dim, cfg.Clusters, cfg.Spread, cfg.Seed)
	data := set.Cluster(cfg.N)
	qs := set.Cluster(cfg.Queries) // fresh draws: queries are never in the index
	truth := exactTopK(data, qs, cfg.K)
	rep := VectorReport{N: cfg.N, Dim: cfg.Dim, Queries: cfg.Queries, K: cfg.K, Clusters: cfg.Clusters, Cores: runtime.GOMAXPROCS(0)}

	opt := search.HNSWOptions{M: cfg.M, EfConstruction: cfg.EfConstruction, EfSearch: cfg.EfSearch}
	emb, err := search.NewEmbedded("", cfg.Dim, opt)
	if err != nil {
		return rep, err
	}
	b, err := loadStore(ctx, "embedded", emb, data)
	if err == nil {
		err = queryStore(ctx, &b, emb, qs, truth, cfg.K)
	}
	emb.Close()
	if err != nil {
		return rep, err
	}
	b.Params = fmt.Sprintf("M=%d efConstruction=%d efSearch=%d", or(cfg.M, 16), or(cfg.EfConstruction, 200), or(cfg.EfSearch, search.DefaultEfSearch(cfg.N)))
	rep.Backends = append(rep.Backends, b)

	if cfg.Milvus != "" {
		bs, err := benchMilvus(ctx, cfg, data, qs, truth)
		if err != nil {
			return rep, fmt.Errorf("milvus %s: %w", cfg.Milvus, err)
		}
		rep.Backends = append(rep.Backends, bs...)
	}
	return rep, nil
}

// benchMilvus loads the data once into a collection of its own (which the run leaves on the
// server: the store has no drop), waits until it is indexed, then searches it through a fresh
// store at each consistency level: a store that has not written reads at its level alone.
func benchMilvus(ctx context.Context, cfg VectorConfig, data, qs [][]float32, truth [][]int) ([]VectorBackend, error) {
	coll := fmt.Sprintf("lawbot_bench_%d", time.Now().UnixNano())
	loader, err := newMilvusStore(ctx, cfg.Milvus, coll, cfg.Dim, search.MilvusOptions{})
	if err != nil {
		return nil, err
	}
	load, err := loadStore(ctx, "milvus", loader, data)
	lastWrite := time.Now()
	if err == nil {
		if f, ok := loader.(flusher); ok {
			err = f.Flush(ctx)
		}
	}
	loader.Close()
	if err != nil {
		return nil, err
	}
	load.InsertS, load.BuildS = load.BuildS, time.Since(lastWrite).Seconds()+load.BuildS
	// A bounded read may lag by the server's grace time; past it, every row is visible to one.
	settle := search.DefaultMilvusOptions().StrongAfterWrite
	if err := sleepCtx(ctx, time.Until(lastWrite.Add(settle))); err != nil {
		return nil, err
	}
	levels := cfg.MilvusConsistency
	if len(levels) == 0 {
		levels = []string{"bounded"}
	}
	var out []VectorBackend
	for _, level := range levels {
		st, err := newMilvusStore(ctx, cfg.Milvus, coll, cfg.Dim, search.MilvusOptions{Consistency: level})
		if err != nil {
			return out, err
		}
		b := load
		b.Name = "milvus"
		b.Params = fmt.Sprintf("consistency=%s M=16 efConstruction=200 ef=max(64,k)", level)
		err = queryStore(ctx, &b, st, qs, truth, cfg.K)
		st.Close()
		if err != nil {
			return out, err
		}
		out = append(out, b)
	}
	return out, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func or(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// loadStore upserts data into st in batches of a thousand.
func loadStore(ctx context.Context, name string, st search.Store, data [][]float32) (VectorBackend, error) {
	b := VectorBackend{Name: name}
	rss0 := settledRSS()
	start := time.Now()
	const batch = 1000
	for i := 0; i < len(data); i += batch {
		rs := make([]search.Record, 0, batch)
		for j := i; j < min(i+batch, len(data)); j++ {
			rs = append(rs, search.Record{ID: strconv.Itoa(j), Vector: data[j]})
		}
		if err := st.Upsert(ctx, rs); err != nil {
			return b, fmt.Errorf("%s: upsert: %w", name, err)
		}
	}
	b.BuildS = time.Since(start).Seconds()
	b.RSSMB = max(settledRSS()-rss0, 0)
	return b, nil
}

// queryStore times each query alone and scores it against the exact top k.
func queryStore(ctx context.Context, b *VectorBackend, st search.Store, qs [][]float32, truth [][]int, k int) error {
	name := b.Name
	// Warm caches and pools so that the first timed queries are not the slow ones.
	for _, q := range qs[:min(len(qs), 20)] {
		if _, err := st.Search(ctx, q, k, search.Filter{}); err != nil {
			return fmt.Errorf("%s: search: %w", name, err)
		}
	}
	lat := make([]float64, len(qs))
	hits := 0
	for i, q := range qs {
		if err := ctx.Err(); err != nil {
			return err
		}
		t := time.Now()
		ms, err := st.Search(ctx, q, k, search.Filter{})
		lat[i] = float64(time.Since(t).Microseconds()) / 1000
		if err != nil {
			return fmt.Errorf("%s: search: %w", name, err)
		}
		want := map[string]bool{}
		for _, j := range truth[i] {
			want[strconv.Itoa(j)] = true
		}
		for _, m := range ms {
			if want[m.ID] {
				hits++
			}
		}
	}
	slices.Sort(lat)
	b.Recall = float64(hits) / float64(len(qs)*k)
	b.P50, b.P99 = floorPercentile(lat, 0.50), floorPercentile(lat, 0.99)
	b.BuildRSSMB = procStatusMB("VmHWM")
	return nil
}

// floorPercentile is the p-th of sorted values at index ⌊p·n⌋ (not the nearest rank of
// stats.Percentile: kept so that the figures stay comparable with earlier runs).
func floorPercentile(sorted []float64, p float64) float64 {
	return sorted[min(int(p*float64(len(sorted))), len(sorted)-1)]
}

// exactTopK is the ground truth: every query scored against every vector, split over the cores.
func exactTopK(data, qs [][]float32, k int) [][]int {
	out := make([][]int, len(qs))
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for qi := range next {
				q := qs[qi]
				type scored struct {
					i int
					s float32
				}
				top := make([]scored, 0, k+1)
				for i, v := range data {
					var s float32
					for d := range q {
						s += q[d] * v[d]
					}
					if len(top) == k && s <= top[k-1].s {
						continue
					}
					at, _ := slices.BinarySearchFunc(top, s, func(a scored, s float32) int {
						if a.s > s {
							return -1
						}
						return 1
					})
					top = slices.Insert(top, at, scored{i, s})
					if len(top) > k {
						top = top[:k]
					}
				}
				ids := make([]int, len(top))
				for j, t := range top {
					ids[j] = t.i
				}
				out[qi] = ids
			}
		})
	}
	for i := range qs {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// settledRSS is resident memory after a collection has returned what it can to the OS.
func settledRSS() float64 {
	runtime.GC()
	debug.FreeOSMemory()
	return procStatusMB("VmRSS")
}

// procStatusMB reads a kB field of /proc/self/status in MB; 0 where there is none (not Linux).
func procStatusMB(field string) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
