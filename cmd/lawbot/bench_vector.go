package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	benchVectorMaxN   = 2_000_000
	benchVectorMaxDim = 4096
)

// newMilvusStore opens the Milvus backend; a variable so that a build without it could say so.
var newMilvusStore func(ctx context.Context, addr, collection string, dim int) (search.Store, error) = search.NewMilvus

// vectorReport is what lawbot bench vector prints (--json: this object).
type vectorReport struct {
	N        int             `json:"n"`
	Dim      int             `json:"dim"`
	Queries  int             `json:"queries"`
	K        int             `json:"k"`
	Clusters int             `json:"clusters"`
	Cores    int             `json:"cores"`
	Backends []vectorBackend `json:"backends"`
}

type vectorBackend struct {
	Name       string  `json:"name"`
	Recall     float64 `json:"recall_at_10"` // recall@k against exact search; k is 10 unless --k says otherwise
	P50        float64 `json:"p50_ms"`
	P99        float64 `json:"p99_ms"`
	BuildS     float64 `json:"build_s"`
	RSSMB      float64 `json:"rss_mb"` // growth of this process's resident memory over the build: the store's own cost in process
	Params     string  `json:"params,omitempty"`
	BuildRSSMB float64 `json:"peak_rss_mb,omitempty"` // the process's peak, data and ground truth included
}

func benchVector(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench vector", stderr)
	n := fs.Int("n", 10_000, "vectors to index (at most "+strconv.Itoa(benchVectorMaxN)+")")
	dim := fs.Int("dim", 256, "dimension")
	queries := fs.Int("queries", 200, "queries to time and score")
	k := fs.Int("k", 10, "results per query")
	clusters := fs.Int("clusters", 100, "Gaussian clusters the vectors are drawn around")
	spread := fs.Float64("spread", 0.5, "noise norm relative to a cluster centre")
	seed := fs.Uint64("seed", 1, "random seed")
	m := fs.Int("m", 0, "HNSW M (0: the store's default)")
	efc := fs.Int("ef-construction", 0, "HNSW efConstruction (0: default)")
	efs := fs.Int("ef-search", 0, "HNSW efSearch (0: default)")
	milvus := fs.String("milvus", "", "also bench a Milvus server at `ADDR` (host:port)")
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "lawbot bench vector: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	if *n < 1 || *n > benchVectorMaxN || *dim < 2 || *dim > benchVectorMaxDim || *queries < 1 || *queries > 10_000 ||
		*k < 1 || *k > 1000 || *clusters < 1 || *spread < 0 {
		fmt.Fprintf(stderr, "lawbot bench vector: need 1 ≤ --n ≤ %d, 2 ≤ --dim ≤ %d, 1 ≤ --queries ≤ 10000, 1 ≤ --k ≤ 1000, --clusters ≥ 1, --spread ≥ 0\n",
			benchVectorMaxN, benchVectorMaxDim)
		return errUsage
	}
	if *milvus != "" && newMilvusStore == nil {
		return errors.New("--milvus: milvus backend not built in")
	}
	ctx := context.Background()
	set := synthvec.New(*dim, *clusters, *spread, *seed)
	data := set.Cluster(*n)
	qs := set.Cluster(*queries) // fresh draws: queries are never in the index
	truth := exactTopK(data, qs, *k)
	rep := vectorReport{N: *n, Dim: *dim, Queries: *queries, K: *k, Clusters: *clusters, Cores: runtime.GOMAXPROCS(0)}

	opt := search.HNSWOptions{M: *m, EfConstruction: *efc, EfSearch: *efs}
	emb, err := search.NewEmbedded("", *dim, opt)
	if err != nil {
		return err
	}
	b, err := benchStore(ctx, "embedded", emb, data, qs, truth, *k)
	emb.Close()
	if err != nil {
		return err
	}
	b.Params = fmt.Sprintf("M=%d efConstruction=%d efSearch=%d", or(*m, 16), or(*efc, 200), or(*efs, search.DefaultEfSearch(*n)))
	rep.Backends = append(rep.Backends, b)

	if *milvus != "" {
		// A collection of its own, which the run leaves on the server (the store has no drop).
		coll := fmt.Sprintf("lawbot_bench_%d", time.Now().UnixNano())
		st, err := newMilvusStore(ctx, *milvus, coll, *dim)
		if err != nil {
			return fmt.Errorf("milvus %s: %w", *milvus, err)
		}
		b, err := benchStore(ctx, "milvus", st, data, qs, truth, *k)
		st.Close()
		if err != nil {
			return err
		}
		rep.Backends = append(rep.Backends, b)
	}

	if *asJSON {
		enc := json.NewEncoder(stdout)
		return enc.Encode(rep)
	}
	fmt.Fprintf(stdout, "%d × %d, %d clusters, %d queries, k=%d, %d cores\n", rep.N, rep.Dim, rep.Clusters, rep.Queries, rep.K, rep.Cores)
	for _, b := range rep.Backends {
		fmt.Fprintf(stdout, "%-9s recall@%d %.4f  p50 %.3f ms  p99 %.3f ms  build %.1f s  rss +%.0f MB  %s\n",
			b.Name, rep.K, b.Recall, b.P50, b.P99, b.BuildS, b.RSSMB, b.Params)
	}
	return nil
}

func or(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// benchStore loads data into st in batches, then times each query alone.
func benchStore(ctx context.Context, name string, st search.Store, data, qs [][]float32, truth [][]int, k int) (vectorBackend, error) {
	b := vectorBackend{Name: name}
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
	// Warm caches and pools so that the first timed queries are not the slow ones.
	for _, q := range qs[:min(len(qs), 20)] {
		if _, err := st.Search(ctx, q, k, search.Filter{}); err != nil {
			return b, fmt.Errorf("%s: search: %w", name, err)
		}
	}
	lat := make([]float64, len(qs))
	hits := 0
	for i, q := range qs {
		t := time.Now()
		ms, err := st.Search(ctx, q, k, search.Filter{})
		lat[i] = float64(time.Since(t).Microseconds()) / 1000
		if err != nil {
			return b, fmt.Errorf("%s: search: %w", name, err)
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
	b.P50, b.P99 = percentile(lat, 0.50), percentile(lat, 0.99)
	b.BuildRSSMB = procStatusMB("VmHWM")
	return b, nil
}

func percentile(sorted []float64, p float64) float64 {
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
