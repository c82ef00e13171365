package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/lawbot-kr/lawbot/loadtest"
)

func benchVector(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench vector", stderr)
	var cfg loadtest.VectorConfig
	fs.IntVar(&cfg.N, "n", 10_000, "vectors to index (at most "+strconv.Itoa(loadtest.MaxVectors)+")")
	fs.IntVar(&cfg.Dim, "dim", 256, "dimension")
	fs.IntVar(&cfg.Queries, "queries", 200, "queries to time and score")
	fs.IntVar(&cfg.K, "k", 10, "results per query")
	fs.IntVar(&cfg.Clusters, "clusters", 100, "Gaussian clusters the vectors are drawn around")
	fs.Float64Var(&cfg.Spread, "spread", 0.5, "noise norm relative to a cluster centre")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "random seed")
	fs.IntVar(&cfg.M, "m", 0, "HNSW M (0: the store's default)")
	fs.IntVar(&cfg.EfConstruction, "ef-construction", 0, "HNSW efConstruction (0: default)")
	fs.IntVar(&cfg.EfSearch, "ef-search", 0, "HNSW efSearch (0: default)")
	fs.StringVar(&cfg.Milvus, "milvus", "", "also bench a Milvus server at `ADDR` (host:port)")
	levels := fs.String("milvus-consistency", "bounded", "search the loaded Milvus collection at each of these `LEVELS` (bounded, strong; comma-separated)")
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "lawbot bench vector: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	for _, l := range strings.Split(*levels, ",") {
		if l = strings.TrimSpace(l); l != "" {
			cfg.MilvusConsistency = append(cfg.MilvusConsistency, l)
		}
	}
	if cfg.Check() != nil {
		fmt.Fprintf(stderr, "lawbot bench vector: need 1 ≤ --n ≤ %d, 2 ≤ --dim ≤ %d, 1 ≤ --queries ≤ 10000, 1 ≤ --k ≤ 1000, --clusters ≥ 1, --spread ≥ 0, --milvus-consistency of bounded and strong\n",
			loadtest.MaxVectors, loadtest.MaxVectorDim)
		return errUsage
	}
	rep, err := loadtest.Vectors(context.Background(), cfg)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(rep)
	}
	fmt.Fprintf(stdout, "%d × %d, %d clusters, %d queries, k=%d, %d cores\n", rep.N, rep.Dim, rep.Clusters, rep.Queries, rep.K, rep.Cores)
	for _, b := range rep.Backends {
		build := fmt.Sprintf("build %.1f s", b.BuildS)
		if b.InsertS > 0 {
			build += fmt.Sprintf(" (insert %.1f s)", b.InsertS)
		}
		fmt.Fprintf(stdout, "%-9s recall@%d %.4f  p50 %.3f ms  p99 %.3f ms  %s  rss +%.0f MB  %s\n",
			b.Name, rep.K, b.Recall, b.P50, b.P99, build, b.RSSMB, b.Params)
	}
	return nil
}
