package main

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"

	"github.com/lawbot-kr/lawbot/loadtest"
)

func TestBenchVector(t *testing.T) {
	var out bytes.Buffer
	if err := runBench([]string{"vector", "--n", "2000", "--dim", "16", "--queries", "20", "--json"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	var rep loadtest.VectorReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out.String())
	}
	if len(rep.Backends) != 1 || rep.Backends[0].Name != "embedded" {
		t.Fatalf("backends = %+v, want embedded alone", rep.Backends)
	}
	if b := rep.Backends[0]; b.Recall < 0.9 || b.P50 <= 0 || b.P99 < b.P50 || b.BuildS <= 0 {
		t.Errorf("implausible figures: %+v", b)
	}
}

func TestBenchVectorRefuses(t *testing.T) {
	for _, args := range [][]string{
		{"vector", "--n", "0"},
		{"vector", "--n", "3000000"},
		{"vector", "--dim", "1"},
		{"vector", "--k", "0"},
	} {
		if err := runBench(args, io.Discard, io.Discard); err == nil {
			t.Errorf("bench %q: no error", args)
		}
	}
}
