package update

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lawbot-kr/lawbot/internal/testcorpus"
	"github.com/lawbot-kr/lawbot/state"
)

// weeklyCorpus is the fixture corpus (real lease statutes, precedents, Q&A) with the filter's
// everyday texts and the dev sets in update/testdata/eval: everything a weekly run reads.
func weeklyCorpus(t *testing.T) string {
	t.Helper()
	dir := testcorpus.CopyCorpus(t)
	copyInto(t, filepath.Join("..", "training", "testdata", "filtercorpus", "nonlegal.jsonl"), filepath.Join(dir, "nonlegal.jsonl"))
	if err := os.Mkdir(filepath.Join(dir, "eval"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"statutes_from_question.dev.jsonl", "filter_nonlegal.dev.jsonl"} {
		copyInto(t, filepath.Join("testdata", "eval", name), filepath.Join(dir, "eval", name))
	}
	return dir
}

func copyInto(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// appendPrecedent adds a copy of the corpus's first decision under a new case number.
func appendPrecedent(t *testing.T, data, caseNo string) {
	t.Helper()
	path := filepath.Join(data, "precedents.jsonl")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	first := strings.SplitN(string(b), "\n", 2)[0]
	added := strings.Replace(first, `"case_no": "`, `"case_no": "`+caseNo+`, `, 1)
	added = strings.Replace(added, `"holding": "`, `"holding": "[0] `+caseNo+` 사건에서 새로 판시한 바: `, 1)
	if added == first || !strings.Contains(added, "[0]") {
		t.Fatalf("no case_no in %.80s", first)
	}
	if err := os.WriteFile(path, append(b, []byte(added+"\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// dropStatutes removes the articles whose lines contain any of ids' article numbers of law.
func dropStatutes(t *testing.T, data string, match ...string) {
	t.Helper()
	path := filepath.Join(data, "statutes.jsonl")
	b, _ := os.ReadFile(path)
	var kept []string
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		drop := false
		for _, m := range match {
			if strings.Contains(l, m) {
				drop = true
			}
		}
		if !drop {
			kept = append(kept, l)
		}
	}
	if err := os.WriteFile(path, []byte(strings.Join(kept, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { c.t = c.t.Add(time.Minute); return c.t }

func current(t *testing.T, root string) string {
	t.Helper()
	r, err := state.OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	_, id, err := r.Current()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func stepSummary(res *Result, step string) string {
	for _, s := range res.Steps {
		if s.Step == step {
			return s.Summary
		}
	}
	return ""
}

func TestWeeklyRun(t *testing.T) {
	ctx := context.Background()
	data, root := weeklyCorpus(t), t.TempDir()
	clk := &clock{time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)}
	var out strings.Builder
	opt := Options{Root: root, Data: data, Now: clk.now, Stdout: &out}

	res, err := Run(ctx, opt)
	if err != nil {
		t.Fatalf("first run: %v\n%s", err, out.String())
	}
	first := res.Version
	if !res.Published || current(t, root) != first {
		t.Fatalf("first run did not publish %s: %+v", first, res)
	}
	v1, err := state.ReadVersion(filepath.Join(root, state.VersionsDir, first))
	if err != nil {
		t.Fatal(err)
	}
	if v1.Eval["question.recall_at_10"] == 0 || v1.Models["filter.v1.bin"] == "" || v1.Corpus.Statutes != 6 {
		t.Errorf("first version's manifest: eval %v, models %v, corpus %+v", v1.Eval, v1.Models, v1.Corpus)
	}

	// The same corpus again: fetch ends the run.
	res, err = Run(ctx, opt)
	if err != nil || !res.NothingToDo || res.Published || len(res.Steps) != 1 {
		t.Fatalf("unchanged corpus: %+v, %v", res, err)
	}

	// A new decision: a new version, with the lexical index and vectors rebuilt and the statute
	// data carried; the filter (which reads the decisions) retrained.
	appendPrecedent(t, data, "2099다12345")
	out.Reset()
	res, err = Run(ctx, opt)
	if err != nil || !res.Published {
		t.Fatalf("run with a new decision: %+v, %v\n%s", res, err, out.String())
	}
	second := res.Version
	v2, err := state.ReadVersion(filepath.Join(root, state.VersionsDir, second))
	if err != nil {
		t.Fatal(err)
	}
	if v2.Parent != first || v2.Changes == nil || v2.Changes.PrecedentsAdded != 1 || v2.Changes.ArticlesAmended != 0 {
		t.Errorf("second version: parent %s, changes %+v", v2.Parent, v2.Changes)
	}
	if !slices.Contains(v2.Rebuilt, state.SnapshotFile) || !slices.Contains(v2.Rebuilt, "models/filter.v1.bin") {
		t.Errorf("rebuilt %v", v2.Rebuilt)
	}
	// Incremental: only the new decision was analysed and embedded; the rest came from the parent.
	ingest := stepSummary(res, "ingest")
	if !strings.Contains(ingest, "indexes: 1 documents analysed, 19 copied") || !strings.Contains(ingest, "vectors: 1 embedded, 0 removed, 13 kept") {
		t.Errorf("the second ingest was not incremental: %s", ingest)
	}
	// The parent's files were linked, never written through: it still loads as it was.
	old, err := state.Load(filepath.Join(root, state.VersionsDir, first))
	if err != nil || len(old.Precedents) != 11 || old.Manifest == nil || old.Manifest.Snapshot.Checksum != old.Snapshot.Checksum {
		t.Fatalf("the first version after the second was built: %v", err)
	}
	if _, ok := old.Precedent("2099다12345"); ok {
		t.Error("the new decision leaked into the first version")
	}
	if v2.EvalCurrent == nil || v2.CurrentID != first || v2.Gate == nil || !v2.Gate.Passed {
		t.Errorf("second version's evaluation: current %s %v, gate %+v", v2.CurrentID, v2.EvalCurrent, v2.Gate)
	}

	// A regression: two articles the dev questions need are gone. The gate refuses it.
	dropStatutes(t, data, `"article": "제623조"`, `"주택임대차보호법"`)
	out.Reset()
	res, err = Run(ctx, opt)
	var ue *Error
	if !errors.As(err, &ue) || ue.Code != CodeGateFailed || !strings.Contains(err.Error(), "question.recall_at_10 dropped by") {
		t.Fatalf("regression: err %v", err)
	}
	if res.Published || current(t, root) != second {
		t.Fatalf("a refused version was published (current %s)", current(t, root))
	}
	refused := res.Version
	// publish alone refuses an ungated version too.
	if _, err := Run(ctx, Options{Root: root, Data: data, Step: "publish", Now: clk.now}); !errors.As(err, &ue) || ue.Code != CodeNotGated {
		t.Errorf("publish of the refused version: %v", err)
	}
	// Re-running evaluate does nothing; the gate with a looser config lets it through.
	res, err = Run(ctx, Options{Root: root, Data: data, Step: "evaluate", Now: clk.now})
	if err != nil || !res.Steps[0].Skipped {
		t.Errorf("evaluate again: %+v %v", res, err)
	}
	loose := filepath.Join(t.TempDir(), "gate.json")
	os.WriteFile(loose, []byte(`{"metrics": {"question.recall_at_10": {"max_drop": 1}}}`), 0o644)
	for _, step := range []string{"gate", "publish"} {
		if _, err := Run(ctx, Options{Root: root, Data: data, Step: step, GateFile: loose, Now: clk.now}); err != nil {
			t.Fatalf("%s with a loose gate: %v", step, err)
		}
	}
	if current(t, root) != refused {
		t.Fatalf("current %s, want %s", current(t, root), refused)
	}
	from, to, err := Rollback(ctx, root, nil, "", nil, &out)
	if err != nil || from != refused || to != second || current(t, root) != second {
		t.Fatalf("rollback %s → %s: %v", from, to, err)
	}
	// The rollback stands: the same corpus does not build and publish the version again.
	res, err = Run(ctx, opt)
	if err != nil || !res.NothingToDo || res.Published || current(t, root) != second {
		t.Errorf("run after the rollback: %+v %v", res, err)
	}
}

// A run killed in the middle of a step leaves current serving; the next run finishes the version.
func TestResumeAfterCrash(t *testing.T) {
	ctx := context.Background()
	data, root := weeklyCorpus(t), t.TempDir()
	clk := &clock{time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)}
	opt := Options{Root: root, Data: data, Now: clk.now}
	res, err := Run(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	first := res.Version

	appendPrecedent(t, data, "2099다777")
	for _, step := range []string{"fetch", "ingest"} {
		opt.Step = step
		if _, err := Run(ctx, opt); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	pending, _ := readPending(&state.Root{Dir: root})
	vdir := filepath.Join(root, state.VersionsDir, pending)
	// What kill -9 during ingest leaves: no marker, a half-written temporary file, and the
	// parent's snapshot still linked in.
	os.Remove(filepath.Join(vdir, markerName("ingest")))
	os.Remove(filepath.Join(vdir, state.SnapshotFile))
	os.Link(filepath.Join(root, state.VersionsDir, first, state.SnapshotFile), filepath.Join(vdir, state.SnapshotFile))
	os.WriteFile(filepath.Join(vdir, ".corpus.snapshot.tmp-123"), []byte("half"), 0o644)
	if current(t, root) != first {
		t.Fatal("current moved before publish")
	}
	if dir, err := state.ResolveStateDir(root); err != nil || filepath.Base(dir) != first {
		t.Fatalf("ResolveStateDir during the build: %s %v", dir, err)
	}

	opt.Step = ""
	res, err = Run(ctx, opt)
	if err != nil || !res.Published || res.Version != pending {
		t.Fatalf("resumed run: %+v %v", res, err)
	}
	if !strings.Contains(res.Steps[0].Summary, "version "+pending) || !res.Steps[0].Skipped {
		t.Errorf("fetch did not resume %s: %+v", pending, res.Steps[0])
	}
	st, err := state.Load(vdir)
	if err != nil || len(st.Precedents) != 12 {
		t.Fatalf("the resumed version's state: %v", err)
	}
	if _, ok := st.Precedent("2099다777"); !ok {
		t.Error("the resumed version lacks the new decision")
	}
	if _, err := os.Stat(filepath.Join(root, PendingFile)); !os.IsNotExist(err) {
		t.Errorf("pending left after publish: %v", err)
	}
}

func TestGateCheck(t *testing.T) {
	cfg := GateConfig{Metrics: map[string]Tolerance{
		"question.recall_at_10": {MaxDrop: f(0.01)},
		"filter.far":            {MaxRise: f(0.005), Max: f(0.025)},
		"holding.recall_at_10":  {MaxDrop: f(0.01), Min: f(0.5)},
	}}
	cur := map[string]float64{"question.recall_at_10": 0.80, "filter.far": 0.020}
	for _, c := range []struct {
		name   string
		next   map[string]float64
		passed bool
		msg    string
	}{
		{"within", map[string]float64{"question.recall_at_10": 0.795, "filter.far": 0.024}, true, ""},
		{"recall", map[string]float64{"question.recall_at_10": 0.75, "filter.far": 0.02}, false, "question.recall_at_10 dropped by 0.0500 (0.8000 → 0.7500), tolerance 0.0100"},
		{"far", map[string]float64{"question.recall_at_10": 0.9, "filter.far": 0.024, "holding.recall_at_10": 0.6}, true, ""},
		{"far rose", map[string]float64{"question.recall_at_10": 0.9, "filter.far": 0.026}, false, "filter.far 0.0260 is above the maximum 0.0250"},
		{"below min", map[string]float64{"question.recall_at_10": 0.9, "holding.recall_at_10": 0.4}, false, "holding.recall_at_10 0.4000 is below the minimum 0.5000"},
	} {
		g := cfg.Check(cur, c.next, true)
		if g.Passed != c.passed || Failures(g) != c.msg {
			t.Errorf("%s: passed %v, %q", c.name, g.Passed, Failures(g))
		}
	}
	if g := cfg.Check(nil, map[string]float64{"question.recall_at_10": 0}, false); !g.Passed {
		t.Error("the first version failed the gate")
	}
	// A bound holds for a first version too.
	if g := cfg.Check(nil, map[string]float64{"filter.far": 0.2}, false); g.Passed || Failures(g) != "filter.far 0.2000 is above the maximum 0.0250" {
		t.Errorf("a first version above the maximum: passed %v, %q", g.Passed, Failures(g))
	}
	// The rise tolerance still applies under the maximum.
	if g := cfg.Check(map[string]float64{"filter.far": 0.0}, map[string]float64{"filter.far": 0.02}, true); g.Passed {
		t.Error("filter.far rising by 0.02 under the maximum passed a 0.005 tolerance")
	}
	strict := cfg
	strict.RequireAll = true
	if g := strict.Check(cur, map[string]float64{"question.recall_at_10": 0.8, "filter.far": 0.02}, true); g.Passed {
		t.Error("require_all passed with holding unmeasured")
	}
}

func TestShippedGateConfig(t *testing.T) {
	cfg, err := ReadGateConfig(filepath.Join("..", "deploy", "update", "gate.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Metrics) != len(DefaultGate.Metrics) {
		t.Errorf("deploy/update/gate.json has %d metrics, the built-in default %d", len(cfg.Metrics), len(DefaultGate.Metrics))
	}
	for name, tol := range DefaultGate.Metrics {
		got, ok := cfg.Metrics[name]
		if !ok || (got.MaxDrop == nil) != (tol.MaxDrop == nil) || (got.Max == nil) != (tol.Max == nil) || (got.Min == nil) != (tol.Min == nil) {
			t.Errorf("%s: shipped %+v, built in %+v", name, got, tol)
		}
	}
	bad := filepath.Join(t.TempDir(), "gate.json")
	for _, text := range []string{
		`{"metrics": {"filter.far": {"max_rsie": 0.01}}}`,
		`{"metrics": {"filter.far": {"max_rise": 0.01, "min": 0.5}}}`,
		`{"metrics": {"filter.far": {"max": 0.01}}}`,
	} {
		os.WriteFile(bad, []byte(text), 0o644)
		if _, err := ReadGateConfig(bad); err == nil {
			t.Errorf("gate config %s was accepted", text)
		}
	}
}
