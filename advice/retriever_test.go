package advice

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/lawbot-kr/lawbot/index"
	"github.com/lawbot-kr/lawbot/internal/fixture"
	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/search"
	"github.com/lawbot-kr/lawbot/state"
)

const leaseQuestion = "전세 계약이 끝났는데 집주인이 보증금을 안 돌려줘요"

// retriever returns a Retriever over the fixture corpus (internal/fixture: built once per test
// binary from indexes saved and loaded back). Tests must not change its state or indexes.
func retriever(t *testing.T) *Retriever {
	t.Helper()
	st, ix := fixture.Shared(t)
	return NewRetriever(st, ix, search.DefaultAnalyzer())
}

// Every field of every index has a default weight.
func TestDefaultParamsWeighEveryField(t *testing.T) {
	p := DefaultParams()
	statutes, precedents, qa := index.Fields()
	for _, c := range []struct {
		name    string
		weights []search.FieldWeight
		fields  []string
	}{
		{"statutes", p.StatuteFields, statutes},
		{"precedents", p.PrecedentFields, precedents},
		{"qa", p.QAFields, qa},
	} {
		if len(c.weights) != len(c.fields) {
			t.Errorf("%s: %d default field weights for %d fields", c.name, len(c.weights), len(c.fields))
		}
	}
}

func TestRetrieveLeaseQuestion(t *testing.T) {
	r := retriever(t)
	qas, precs, ranked := retrieve(t, NewPipeline(r, nil), leaseQuestion, 10)
	q := r.Analyze(leaseQuestion)
	if len(q.Terms) == 0 {
		t.Fatalf("query %q has no terms", leaseQuestion)
	}
	if len(ranked) == 0 {
		t.Fatal("no articles ranked")
	}
	if len(ranked) > 10 {
		t.Errorf("%d articles for k=10", len(ranked))
	}
	if len(precs) == 0 || len(qas) == 0 {
		t.Errorf("%d similar precedents and %d Q&A for a lease question", len(precs), len(qas))
	}
	if len(qas) > 0 && !strings.Contains(qas[0].QA.Question, "전셋집") && !strings.Contains(qas[0].QA.Question, "주택") {
		t.Errorf("best Q&A %q is not about a lease", qas[0].QA.Question)
	}
	var ids []string
	seen := map[int32]bool{}
	for i, m := range ranked {
		ids = append(ids, m.Statute.ID())
		if seen[m.N] {
			t.Errorf("%s ranked twice", m.Statute.ID())
		}
		seen[m.N] = true
		if m.Statute != &r.State.Statutes[m.N] {
			t.Errorf("match %d: Statute does not point at statute %d", i, m.N)
		}
		if !(m.Score > 0) {
			t.Errorf("%s: score %v", m.Statute.ID(), m.Score)
		}
		if i > 0 && m.Score > ranked[i-1].Score {
			t.Errorf("ranking out of order at %d: %v > %v", i, m.Score, ranked[i-1].Score)
		}
		if len(m.Reasons) == 0 {
			t.Errorf("%s has no reasons", m.Statute.ID())
		}
		for _, reason := range m.Reasons {
			if !(reason.Weight > 0 && reason.Weight <= 1.5) {
				t.Errorf("%s: reason %+v has weight outside (0, 1.5]", m.Statute.ID(), reason)
			}
			if !slices.Contains([]string{"precedent", "qa", "lexical", "cocited", "law"}, reason.Kind) || reason.Ref == "" {
				t.Errorf("%s: reason %+v", m.Statute.ID(), reason)
			}
			if reason.String() == "" {
				t.Errorf("%s: reason %+v renders empty", m.Statute.ID(), reason)
			}
		}
	}
	top := ids[:min(5, len(ids))]
	lease := []string{"민법 제618조", "민법 제623조", "주택임대차보호법 제3조"}
	if !slices.ContainsFunc(top, func(id string) bool { return slices.Contains(lease, id) }) {
		t.Errorf("top 5 %v holds none of the lease articles %v", top, lease)
	}

	// The ranking does not depend on map order: the same question ranks the same every time.
	for range 20 {
		_, _, again := retrieve(t, NewPipeline(r, nil), leaseQuestion, 10)
		if len(again) != len(ranked) {
			t.Fatalf("second ranking has %d articles, first %d", len(again), len(ranked))
		}
		for i := range again {
			if again[i].N != ranked[i].N || again[i].Score != ranked[i].Score {
				t.Fatalf("ranking changed between runs at %d: %s %v, then %s %v", i,
					ranked[i].Statute.ID(), ranked[i].Score, again[i].Statute.ID(), again[i].Score)
			}
		}
	}
}

func TestRetrieveNothingMatches(t *testing.T) {
	r := retriever(t)
	for _, text := range []string{"!!! ???", "zzqx"} { // an empty question is refused before (TestAdviseRejectsBadQuestions)
		qas, precs, ranked := retrieve(t, NewPipeline(r, nil), text, 10)
		if len(ranked) != 0 || len(precs) != 0 || len(qas) != 0 {
			t.Errorf("Retrieve(%q) = %d articles, %d precedents, %d Q&A; want none", text, len(ranked), len(precs), len(qas))
		}
	}
}

func TestSimilarPrecedentsFilter(t *testing.T) {
	p := NewPipeline(retriever(t), nil)
	const q = "임대차 보증금 반환 사기 업무방해 컴퓨터 손해배상"
	all := p.SearchPrecedents(context.Background(), q, 20, PrecedentFilter{})
	types := map[string]int{}
	for _, m := range all {
		types[m.Precedent.CaseType]++
	}
	if types["형사"] == 0 || types["민사"] == 0 {
		t.Fatalf("unfiltered search should find both kinds; case types %v", types)
	}
	tests := []struct {
		name   string
		filter PrecedentFilter
		keeps  func(*law.Precedent) bool
	}{
		{"형사 only", PrecedentFilter{CaseType: "형사"}, func(p *law.Precedent) bool { return p.CaseType == "형사" }},
		{"민사 only", PrecedentFilter{CaseType: "민사"}, func(p *law.Precedent) bool { return p.CaseType == "민사" }},
		{"하급심 only", PrecedentFilter{CourtLevel: "하급심"}, func(p *law.Precedent) bool { return p.CourtLevel == "하급심" }},
		{"decided 2016 to 2020", PrecedentFilter{From: "2016-01-01", To: "2020-12-31"},
			func(p *law.Precedent) bool { return p.Date >= "2016-01-01" && p.Date <= "2020-12-31" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.SearchPrecedents(context.Background(), q, 20, tt.filter)
			if len(got) == 0 {
				t.Fatalf("filter %+v found nothing", tt.filter)
			}
			for _, m := range got {
				if !tt.keeps(m.Precedent) {
					t.Errorf("filter %+v let through %s (%s, %s, %s)", tt.filter, m.Precedent.CaseNo,
						m.Precedent.CaseType, m.Precedent.CourtLevel, m.Precedent.Date)
				}
			}
			// Every unfiltered hit the filter accepts is still there.
			want := 0
			for _, m := range all {
				if tt.keeps(m.Precedent) {
					want++
				}
			}
			if len(got) != want {
				t.Errorf("filter %+v kept %d of the hits, want %d", tt.filter, len(got), want)
			}
		})
	}
}

func TestParamsSet(t *testing.T) {
	tests := []struct {
		set   string
		check func(p Params) bool
	}{
		{"k1=1.5", func(p Params) bool { return p.K1 == 1.5 }},
		{"vote_precedents=20", func(p Params) bool { return p.VotePrecedents == 20 }},
		{"sharpness=0.5", func(p Params) bool { return p.Sharpness == 0.5 }},
		{"split_parts=1", func(p Params) bool { return p.SplitParts == 1 }},
		{"pf.holding=1.7", func(p Params) bool { return p.PrecedentFields[2].Weight == 1.7 }},
		{"pf.holding#.b=0.1", func(p Params) bool { return p.PrecedentFields[3].B == 0.1 }},
		{"sf.title=3", func(p Params) bool { return p.StatuteFields[2].Weight == 3 }},
		{"qf.answer=0", func(p Params) bool { return p.QAFields[2].Weight == 0 }},
	}
	for _, tt := range tests {
		p := DefaultParams()
		if err := p.Set(tt.set); err != nil {
			t.Errorf("Set(%q): %v", tt.set, err)
			continue
		}
		if !tt.check(p) {
			t.Errorf("Set(%q) left %+v", tt.set, p)
		}
	}
	// Every setting keeps the --param name it had before Params was split by stage.
	for _, name := range []string{"k1", "vote_precedents", "vote_qa", "sharpness", "direct", "precedent", "qa",
		"cocite", "law_prior", "direct_top", "popularity", "spread", "direct_decay", "confidence", "qa_law",
		"split_parts", "dense_qa", "dense_precedents", "dense_depth", "fusion", "rrf_k", "dense_statutes",
		"dense_statute_top", "tagger", "tagger_top", "tagger_confidence"} {
		p := DefaultParams()
		if err := p.Set(name + "=7"); err != nil {
			t.Errorf("Set(%s=7): %v", name, err)
			continue
		}
		if reflect.DeepEqual(p, DefaultParams()) {
			t.Errorf("Set(%s=7) changed nothing", name)
		}
	}
	// Setting a field weight does not change the defaults other Params share.
	def := DefaultParams()
	if def.PrecedentFields[2].Weight == 1.7 || def.PrecedentFields[3].B == 0.1 || def.StatuteFields[4].Weight == 3 {
		t.Errorf("Set changed DefaultParams: %+v", def)
	}

	for _, bad := range []struct{ set, inErr string }{
		{"nope=1", `unknown parameter "nope"`},
		{"k1", "want name=value"},
		{"k1=abc", "k1"},
		{"vote_precedents=1.5", "vote_precedents"},
		{"xf.holding=1", `unknown parameter group "xf"`},
		{"pf.nope=1", `unknown field "nope"`},
		{"pf.holding=x", "pf.holding"},
		{"=1", "unknown parameter"},
		{"StatuteFields=1", "unknown parameter"},
	} {
		p := DefaultParams()
		err := p.Set(bad.set)
		if err == nil || !strings.Contains(err.Error(), bad.inErr) {
			t.Errorf("Set(%q) = %v, want an error containing %q", bad.set, err, bad.inErr)
		}
	}
}

// BenchmarkRetrieve runs the whole retrieval for the first 50 queries of each statute dev set over
// the state in $LAWBOT_STATE (with its indexes: lawbot ingest builds them), e.g. the real corpus.
func BenchmarkRetrieve(b *testing.B) {
	dir := os.Getenv("LAWBOT_STATE")
	if dir == "" {
		b.Skip("LAWBOT_STATE is not set")
	}
	data, err := law.ResolveDataDir("")
	if err != nil {
		b.Skipf("no dev sets: %v", err)
	}
	st, err := state.Load(dir)
	if err != nil {
		b.Fatal(err)
	}
	ix, err := index.LoadLexical(st)
	if err != nil {
		b.Fatal(err)
	}
	p := NewPipeline(NewRetriever(st, ix, search.DefaultAnalyzer()), nil)
	for _, task := range []string{"question", "holding"} {
		queries := devQueries(b, filepath.Join(data, "eval", "statutes_from_"+task+".dev.jsonl"), 50)
		b.Run(task, func(b *testing.B) {
			i := 0
			for b.Loop() {
				retrieve(b, p, queries[i%len(queries)], 10)
				i++
			}
		})
	}
}

func devQueries(b *testing.B, path string, n int) []string {
	f, err := os.Open(path)
	if err != nil {
		b.Skip(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() && len(out) < n {
		var c struct {
			Query string `json:"query"`
		}
		if json.Unmarshal(sc.Bytes(), &c) == nil && c.Query != "" {
			out = append(out, c.Query)
		}
	}
	if len(out) == 0 {
		b.Skipf("no queries in %s", path)
	}
	return out
}

// retrieve runs the pipeline the API runs, every message taken as legal, and returns the similar
// Q&A, the precedents shown and the ranked articles (k of them).
func retrieve(tb testing.TB, p *Pipeline, text string, k int) ([]QAMatch, []PrecedentMatch, []StatuteMatch) {
	tb.Helper()
	withK := *p
	withK.Sizes.Statutes = k
	res, err := withK.Advise(context.Background(), text, nil)
	if err != nil {
		tb.Fatalf("advise %q: %v", text, err)
	}
	return res.SimilarQuestions, res.Precedents, res.Statutes
}
