package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Dev-set lines over the fixture corpus: gold articles in the fixture, plus one whose gold is not
// in the corpus at all and so can never be found.
const (
	devLease      = `{"id": "q1", "query": "전세 계약이 끝났는데 집주인이 보증금을 안 돌려줘요", "gold": ["민법 제618조", "주택임대차보호법 제3조"]}`
	devLessorDuty = `{"id": "q2", "query": "임대인이 목적물을 임차인에게 인도하고 사용, 수익에 필요한 상태를 유지하게 할 의무가 있나요?", "gold": ["민법 제623조"]}`
	devRisk       = `{"id": "q3", "query": "쌍무계약에서 당사자 쌍방의 책임 없는 사유로 채무를 이행할 수 없게 되면 상대방에게 이행을 청구할 수 있나요?", "gold": ["민법 제537조"]}`
	devUnfindable = `{"id": "q4", "query": "중고거래 사이트에서 물건값을 받고 물건을 보내지 않았어요", "gold": ["형법 제347조"]}`
)

func writeDev(t *testing.T, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dev.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// evalJSON runs eval --task question --json and decodes the metrics.
func evalJSON(t *testing.T, stateDir, dev string, extra ...string) map[string]any {
	t.Helper()
	args := append([]string{"eval", "--task", "question", "--data", fixtureCorpus, "--state", stateDir, "--file", dev, "--json"}, extra...)
	code, out, errOut := runLawbot(args...)
	if code != 0 {
		t.Fatalf("eval exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("eval --json printed %q: %v", out, err)
	}
	return m
}

func TestEvalStatutesCommand(t *testing.T) {
	stateDir := ingestFixture(t) // ingest builds the indexes too
	dev := writeDev(t, devLease, devLessorDuty, "not json", devRisk, devUnfindable)

	m := evalJSON(t, stateDir, dev)
	for _, key := range []string{"recall_at_5", "recall_at_k", "hit_at_k", "mrr_at_k"} {
		v, ok := m[key].(float64)
		if !ok {
			t.Errorf("%s missing or not a number: %v", key, m)
			continue
		}
		if v < 0 || v > 1 || math.IsNaN(v) {
			t.Errorf("%s = %v, outside [0, 1]", key, v)
		}
	}
	for _, key := range []string{"latency_p50_ms", "latency_p99_ms"} {
		if v, ok := m[key].(float64); !ok || v < 0 {
			t.Errorf("%s = %v", key, m[key])
		}
	}
	if m["queries"] != 4.0 || m["k"] != 10.0 || m["skipped_lines"] != 1.0 {
		t.Errorf("queries %v, k %v, skipped_lines %v; want 4, 10, 1", m["queries"], m["k"], m["skipped_lines"])
	}
	// One query of four cannot be answered from this corpus; the others can.
	if r := m["recall_at_k"].(float64); !(r > 0 && r <= 0.75) {
		t.Errorf("recall_at_k = %v, want in (0, 0.75]", r)
	}
	if h := m["hit_at_k"].(float64); !(h > 0 && h <= 0.75) {
		t.Errorf("hit_at_k = %v, want in (0, 0.75]", h)
	}
	if m["recall_at_5"].(float64) > m["recall_at_k"].(float64) {
		t.Errorf("recall_at_5 %v > recall_at_k %v", m["recall_at_5"], m["recall_at_k"])
	}

	// The lessor's duty is spelt out in 민법 제623조 itself: it must be found.
	one := evalJSON(t, stateDir, writeDev(t, devLessorDuty))
	if one["queries"] != 1.0 || !(one["recall_at_k"].(float64) > 0) || one["hit_at_k"] != 1.0 || !(one["mrr_at_k"].(float64) > 0) {
		t.Errorf("retrievable query: %v, want Recall@10 > 0 and a hit", one)
	}
	none := evalJSON(t, stateDir, writeDev(t, devUnfindable), "--k", "5")
	if none["recall_at_k"] != 0.0 || none["hit_at_k"] != 0.0 || none["mrr_at_k"] != 0.0 || none["k"] != 5.0 {
		t.Errorf("query whose gold is outside the corpus: %v, want zeros at k=5", none)
	}

	// Parameters are applied and echoed.
	tuned := evalJSON(t, stateDir, writeDev(t, devLessorDuty), "--param", "pf.holding=1", "--param", "vote_qa=0")
	if tuned["params"] != "pf.holding=1 vote_qa=0" {
		t.Errorf("params echoed as %v", tuned["params"])
	}

	// The text report.
	code, out, errOut := runLawbot("eval", "--task", "holding", "--data", fixtureCorpus, "--state", stateDir, "--file", dev)
	if code != 0 {
		t.Fatalf("eval exit %d: %s", code, errOut)
	}
	for _, want := range []string{"4 queries", "Recall@5", "Recall@10", "Hit@10", "MRR@10", "latency"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "dev.jsonl:3:") {
		t.Errorf("the malformed line is not reported as FILE:LINE:\n%s", errOut)
	}
}

func TestEvalStatutesExplain(t *testing.T) {
	stateDir := ingestFixture(t)
	dev := writeDev(t, devLease, devLessorDuty)
	code, out, errOut := runLawbot("eval", "--task", "question", "--data", fixtureCorpus, "--state", stateDir,
		"--file", dev, "--explain", "q2")
	if code != 0 {
		t.Fatalf("eval --explain exit %d: %s", code, errOut)
	}
	for _, want := range []string{"== q2", "gold: 민법 제623조", "ranked articles:", "similar precedents:", "similar Q&A:"} {
		if !strings.Contains(out, want) {
			t.Errorf("explanation lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "== q1") {
		t.Errorf("only q2 should be explained:\n%s", out)
	}
	// The gold article is marked, and it carries at least one reason line ("NN%  …").
	var marked string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "✓") {
			marked = line
			break
		}
	}
	if !strings.Contains(marked, "민법 제623조") {
		t.Errorf("no ✓ on 민법 제623조:\n%s", out)
	}
	if !strings.Contains(out, "%  ") {
		t.Errorf("no reasons printed:\n%s", out)
	}
}

func TestEvalStatutesErrors(t *testing.T) {
	stateDir := ingestFixture(t)
	dev := writeDev(t, devLessorDuty)
	noIndex := ingestFixture(t)
	if err := os.RemoveAll(filepath.Join(noIndex, "index")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		code     int
		inStderr string
	}{
		{"unknown parameter", []string{"--param", "nope=1"}, 1, `unknown parameter "nope"`},
		{"unknown field weight", []string{"--param", "pf.nope=1"}, 1, `unknown field "nope"`},
		{"parameter without a value", []string{"--param", "k1"}, 1, "want name=value"},
		{"k not positive", []string{"--k", "0"}, 1, "--k must be positive"},
		{"unknown task", []string{"--task", "nope"}, 2, `unknown task "nope"`},
		{"missing dev set", []string{"--file", filepath.Join(t.TempDir(), "none.jsonl")}, 1, "none.jsonl"},
		{"no usable query", []string{"--file", writeDev(t, "not json", `{"id": "x", "query": "", "gold": []}`)}, 1, "no usable queries"},
		{"state without indexes", []string{"--state", noIndex}, 1, "lawbot ingest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"eval", "--task", "question", "--data", fixtureCorpus, "--state", stateDir, "--file", dev}, tt.args...)
			code, out, errOut := runLawbot(args...)
			if code != tt.code || !strings.Contains(errOut, tt.inStderr) {
				t.Errorf("exit %d (want %d), stderr:\n%s\nwant it to contain %q; stdout:\n%s", code, tt.code, errOut, tt.inStderr, out)
			}
		})
	}
}
