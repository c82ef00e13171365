package training

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lawbot-kr/lawbot/internal/fixture"

	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/models"
	"github.com/lawbot-kr/lawbot/search"
	"github.com/lawbot-kr/lawbot/state"
)

// fixtureState is the fixture corpus's state shared by the export tests (they must not
// change it).
func fixtureState(t *testing.T) *state.State {
	st, _ := fixture.Shared(t)
	return st
}

func readJSONL[T any](t *testing.T, path string) []T {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, v)
	}
	return out
}

type pairLine struct {
	A, B []int32
	Kind string
}

type taggerLine struct {
	X []int32
	Y []int
}

// TestExportMatchesTokenizer is the promise of the export: every id sequence in it is what the
// serving tokeniser, loaded from the export's own files, makes of the text.
func TestExportMatchesTokenizer(t *testing.T) {
	st := fixtureState(t)
	a := search.DefaultAnalyzer()
	out := t.TempDir()
	cfg := ExportConfig{MaxLen: 48, MinDF: 2, MaxVocab: 400, MinLabelCites: 2}
	info, err := Export(context.Background(), st, a, out, cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := models.LoadTokenizer(out, a)
	if err != nil {
		t.Fatal(err)
	}
	if tok.MaxLen() != 48 || tok.VocabSize() != info.Vocab || tok.VocabSize() > 400 || tok.Analyzer() != search.AnalyzerVersion {
		t.Errorf("tokenizer: max_len %d vocab %d (info %d) analyzer %q", tok.MaxLen(), tok.VocabSize(), info.Vocab, tok.Analyzer())
	}
	if info.Source != st.Snapshot.Checksum || info.Texts == 0 {
		t.Errorf("export.json: %+v", info)
	}

	pairs := readJSONL[pairLine](t, filepath.Join(out, PairsFile))
	byKind := map[string][]pairLine{}
	for _, p := range pairs {
		byKind[p.Kind] = append(byKind[p.Kind], p)
		for _, s := range [][]int32{p.A, p.B} {
			if len(s) == 0 || len(s) > cfg.MaxLen || slices.ContainsFunc(s, func(id int32) bool { return id <= 0 || int(id) >= tok.VocabSize() }) {
				t.Fatalf("bad ids %v", s)
			}
		}
	}
	for kind, n := range info.Pairs {
		if len(byKind[kind]) != n || n == 0 {
			t.Errorf("%s: %d lines, export.json says %d", kind, len(byKind[kind]), n)
		}
	}
	if len(info.Pairs) != 3 {
		t.Errorf("pair kinds %v, want qa, holding_summary, precedent_statute", info.Pairs)
	}

	// Q&A and 판시사항 ↔ 판결요지 pairs come in corpus order.
	var qa, hs [][2]string
	for _, q := range st.QA {
		if strings.TrimSpace(q.Question) != "" && strings.TrimSpace(q.Answer) != "" {
			qa = append(qa, [2]string{q.Question, q.Answer})
		}
	}
	for _, p := range st.Precedents {
		if strings.TrimSpace(p.Holding) != "" && strings.TrimSpace(p.Summary) != "" {
			hs = append(hs, [2]string{p.Holding, p.Summary})
		}
	}
	for kind, texts := range map[string][][2]string{pairQA: qa, pairHoldingSummary: hs} {
		if len(texts) != len(byKind[kind]) {
			t.Fatalf("%s: %d pairs, want %d", kind, len(byKind[kind]), len(texts))
		}
		for i, p := range byKind[kind] {
			if want := tok.Encode(texts[i][0]); !slices.Equal(p.A, want) {
				t.Errorf("%s %d: a = %v, Encode gives %v", kind, i, p.A, want)
			}
			if want := tok.Encode(texts[i][1]); !slices.Equal(p.B, want) {
				t.Errorf("%s %d: b = %v, Encode gives %v", kind, i, p.B, want)
			}
		}
	}
	// The statute side is one of the articles the decision cites.
	statuteAt := statuteIndexes(st)
	var withCites []*law.Precedent
	for i := range st.Precedents {
		p := &st.Precedents[i]
		if strings.TrimSpace(p.Holding) != "" && len(citedArticles(st, statuteAt, p)) > 0 {
			withCites = append(withCites, p)
		}
	}
	if len(withCites) != len(byKind[pairPrecedentStatute]) {
		t.Fatalf("precedent_statute: %d pairs, want %d", len(byKind[pairPrecedentStatute]), len(withCites))
	}
	for i, pair := range byKind[pairPrecedentStatute] {
		p := withCites[i]
		if !slices.Equal(pair.A, tok.Encode(p.Holding)) {
			t.Errorf("precedent_statute %d: a is not the 판시사항", i)
		}
		found := false
		for _, j := range citedArticles(st, statuteAt, p) {
			found = found || slices.Equal(pair.B, tok.Encode(st.Statutes[j].Document()))
		}
		if !found {
			t.Errorf("precedent_statute %d (%s): b is none of its cited articles %v", i, p.CaseNo, p.CitedStatutes)
		}
	}

	// Labels are real articles cited often enough; tagger lines point at them.
	labels := readLines(t, filepath.Join(out, LabelsFile))
	if len(labels) != info.Labels || len(labels) == 0 {
		t.Fatalf("labels.txt has %d lines, export.json %d", len(labels), info.Labels)
	}
	for _, l := range labels {
		if _, ok := st.Statute(l); !ok {
			t.Errorf("label %q is not in the statutes", l)
		}
	}
	tagger := readJSONL[taggerLine](t, filepath.Join(out, TaggerFile))
	if len(tagger) != info.Tagger || len(tagger) == 0 {
		t.Fatalf("tagger.jsonl has %d lines, export.json %d", len(tagger), info.Tagger)
	}
	k := 0
	for i := range st.Precedents {
		p := &st.Precedents[i]
		var want []int
		for _, j := range citedArticles(st, statuteAt, p) {
			if y := slices.Index(labels, st.Statutes[j].ID()); y >= 0 {
				want = append(want, y)
			}
		}
		slices.Sort(want)
		if len(want) == 0 || strings.TrimSpace(p.Holding+p.Summary) == "" {
			continue
		}
		line := tagger[k]
		k++
		if !slices.Equal(line.Y, want) {
			t.Errorf("tagger %s: y = %v, want %v", p.CaseNo, line.Y, want)
		}
		// x: the morphemes of 판시사항 and 판결요지, then their bigrams, cut at max_len.
		mh, bh := models.TokenParts(a, p.Holding)
		ms, bs := models.TokenParts(a, p.Summary)
		wantX := tok.EncodeTokens(slices.Concat(mh, ms, bh, bs))
		if !slices.Equal(line.X, wantX) {
			t.Errorf("tagger %s: x = %v, want %v", p.CaseNo, line.X, wantX)
		}
	}
	if k != len(tagger) {
		t.Errorf("matched %d of %d tagger lines", k, len(tagger))
	}
}

func readLines(t *testing.T, path string) []string {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

func TestEnsureExportReuses(t *testing.T) {
	st := fixtureState(t)
	dir := filepath.Join(t.TempDir(), exportDir)
	var log strings.Builder
	if err := ensureExport(context.Background(), st, dir, &log); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log.String(), "reusing") {
		t.Fatalf("first export reused: %s", log.String())
	}
	log.Reset()
	if err := ensureExport(context.Background(), st, dir, &log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "reusing") {
		t.Errorf("second export did not reuse the first: %s", log.String())
	}
	// Another snapshot's export is redone.
	data, _ := os.ReadFile(filepath.Join(dir, ExportInfoFile))
	os.WriteFile(filepath.Join(dir, ExportInfoFile), []byte(strings.Replace(string(data), st.Snapshot.Checksum, "other", 1)), 0o644)
	log.Reset()
	if err := ensureExport(context.Background(), st, dir, &log); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log.String(), "reusing") {
		t.Errorf("stale export reused")
	}
}

func TestExportRefuses(t *testing.T) {
	st := fixtureState(t)
	bad := DefaultExportConfig
	bad.MaxVocab = 1
	if _, err := Export(context.Background(), st, search.DefaultAnalyzer(), t.TempDir(), bad, io.Discard); err == nil {
		t.Error("max_vocab 1 exported")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	if _, err := Export(ctx, st, search.DefaultAnalyzer(), dir, DefaultExportConfig, io.Discard); err != context.Canceled {
		t.Errorf("cancelled export: err %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ExportInfoFile)); err == nil {
		t.Error("a cancelled export wrote export.json")
	}
}

func TestParallelInOrder(t *testing.T) {
	for _, n := range []int{0, 1, 7, 1000} {
		var got []int
		parallelInOrder(n, func(i int) int { return i * i }, func(i, r int) {
			if r != i*i {
				t.Errorf("result %d for %d", r, i)
			}
			got = append(got, i)
		})
		if len(got) != n || !slices.IsSorted(got) {
			t.Errorf("n=%d: order %v", n, got)
		}
	}
}

func TestTrainTFWithoutState(t *testing.T) {
	python := fakePython(t, "#!/bin/sh\nexit 0\n")
	t.Setenv(PythonEnv, python)
	t.Setenv(ScriptDirEnv, filepath.Dir(python))
	var out strings.Builder
	ctx := context.Background()
	err := tfTrainer("tagger")(ctx, Config{StateDir: t.TempDir(), Stdout: &out, Stderr: &out})
	if err != nil || !strings.Contains(out.String(), "tagger: skipped") || !strings.Contains(out.String(), "lawbot ingest") {
		t.Errorf("err %v, output %q", err, out.String())
	}
	if err := tfTrainer("tagger")(ctx, Config{StateDir: t.TempDir(), Only: true, Stdout: &out, Stderr: &out}); err == nil {
		t.Error("--only tagger without a state did not fail")
	}
}

func TestTrainTFPythonWithoutTensorFlow(t *testing.T) {
	t.Setenv(PythonEnv, fakePython(t, "#!/bin/sh\necho \"ModuleNotFoundError: No module named 'tensorflow'\" >&2\nexit 1\n"))
	_, err := findTFPython(context.Background())
	if err == nil || !strings.Contains(err.Error(), "No module named 'tensorflow'") || !strings.Contains(err.Error(), "make setup") {
		t.Errorf("err = %v", err)
	}
}

// fakePython writes an executable script (and a train.py beside it) and returns its path.
func fakePython(t *testing.T, script string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "python")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "train.py"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReplaceDir(t *testing.T) {
	root := t.TempDir()
	dest := filepath.Join(root, "encoder.v1")
	for _, content := range []string{"first", "second"} {
		src := filepath.Join(root, "tmp")
		os.MkdirAll(src, 0o755)
		os.WriteFile(filepath.Join(src, "model.json"), []byte(content), 0o644)
		if err := replaceDir(src, dest); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(filepath.Join(dest, "model.json")); string(got) != content {
			t.Errorf("dest holds %q, want %q", got, content)
		}
	}
	entries, _ := os.ReadDir(root)
	if len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
}

func TestFormatMetrics(t *testing.T) {
	info := map[string]any{"steps": 3.0, "val_recall_at_1": 0.8, "val_recall_at_1_by_kind": map[string]any{"qa": 0.9, "holding_summary": 0.95}}
	want := "val_recall_at_1 0.8, val_recall_at_1_by_kind (holding_summary 0.95, qa 0.9)"
	if got := formatMetrics(info); got != want {
		t.Errorf("formatMetrics = %q, want %q", got, want)
	}
	if got := formatMetrics(map[string]any{"steps": 1.0}); got != "no validation figures" {
		t.Errorf("formatMetrics without figures = %q", got)
	}
}
