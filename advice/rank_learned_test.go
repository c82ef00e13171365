package advice

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/search"
)

func TestStatuteRankerFile(t *testing.T) {
	dir := t.TempDir()
	w := make([]float32, len(RankFeatures))
	w[slices.Index(RankFeatures, "direct")] = 1
	r := &StatuteRanker{Features: RankFeatures, Weights: w, Info: RankerInfo{Queries: 3, Wins: true}}
	path := RankerPath(dir)
	if err := r.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := LoadStatuteRanker(path)
	if err != nil || !slices.Equal(got.Weights, w) || !got.Info.Wins {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	for name, text := range map[string]string{
		"fewer features": `{"features": ["direct"], "weights": [1]}`,
		"renamed":        strings.Replace(mustRead(t, path), `"direct"`, `"directness"`, 1),
		"not json":       `{"features": `,
	} {
		bad := filepath.Join(dir, name+".json")
		os.WriteFile(bad, []byte(text), 0o644)
		if _, err := LoadStatuteRanker(bad); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// With learned_ranker=1 the ranker's score orders the articles and the reasons are its
// features' contributions; with 0 (the default) the hand weights rank as before.
func TestLearnedRankerRanks(t *testing.T) {
	q := "임대차가 끝났는데 임대인이 보증금을 돌려주지 않습니다"
	hand := NewPipeline(retriever(t), nil)
	base, err := hand.Advise(context.Background(), q, nil)
	if err != nil || len(base.Statutes) < 2 {
		t.Fatalf("hand ranking: %v, %d articles", err, len(base.Statutes))
	}
	// A ranker that ranks by popularity alone.
	w := make([]float32, len(RankFeatures))
	w[slices.Index(RankFeatures, "popularity")] = 1
	p := NewPipeline(retriever(t), nil)
	p.StatuteRanker = &StatuteRanker{Features: RankFeatures, Weights: w}
	off, _ := p.Advise(context.Background(), q, nil)
	if ids(off.Statutes) != ids(base.Statutes) {
		t.Errorf("learned_ranker=0 (the default) changed the ranking")
	}
	if err := p.Params.Set("learned_ranker=1"); err != nil {
		t.Fatal(err)
	}
	var cands []StatuteCandidate
	p.StatuteCandidates = func(cs []StatuteCandidate) { cands = cs }
	on, err := p.Advise(context.Background(), q, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(on.Statutes); i++ {
		a, b := on.Statutes[i-1], on.Statutes[i]
		if a.Score < b.Score {
			t.Errorf("not in score order at %d", i)
		}
	}
	pop := slices.Index(RankFeatures, "popularity")
	for _, m := range on.Statutes {
		var total float32
		for _, r := range m.Reasons {
			if r.Weight <= 0 {
				t.Errorf("%s: a reason without weight %+v", m.Statute.ID(), r)
			}
			total += r.Weight
		}
		if len(m.Reasons) > 0 && (total < 0.99 || total > 1.01 || m.Reasons[0].Kind != "popular") {
			t.Errorf("%s: reasons %+v (total %.3f), want the popularity alone", m.Statute.ID(), m.Reasons, total)
		}
	}
	if len(cands) == 0 || len(cands[0].Features) != len(RankFeatures) {
		t.Fatalf("candidates %d", len(cands))
	}
	if ids(on.Statutes) == ids(base.Statutes) {
		t.Error("ranking by popularity alone left the hand ranking as it was; the test cannot tell")
	}
	// The gate: a query that matches the decisions less than min_match is ranked by hand.
	p.StatuteRanker.MinMatch = 2
	gated, _ := p.Advise(context.Background(), q, nil)
	if ids(gated.Statutes) != ids(base.Statutes) {
		t.Error("a query under the ranker's min_match was not ranked by the hand weights")
	}
	for _, c := range cands {
		if c.Features[pop] < 0 || c.Features[slices.Index(RankFeatures, "hand_rank")] <= 0 {
			t.Errorf("candidate %s features %v", c.ID, c.Features)
		}
	}
}

func ids(ms []StatuteMatch) string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Statute.ID())
	}
	return strings.Join(out, ",")
}

// Expansion adds the answers' weightiest morphemes the question lacks, at the expansion weight,
// and nothing the question has.
func TestExpandTerms(t *testing.T) {
	r := retriever(t)
	q := r.Analyze("월세를 안 돌려줘요")
	qas := []QAMatch{{N: 0, QA: &QA0, Score: 1}}
	p := DefaultParams().StatuteParams
	p.ExpandTerms, p.ExpandQA, p.ExpandWeight = 3, 1, 0.25
	got := r.expandTerms(q.Terms, qas, p)
	if len(got) != len(q.Terms)+3 {
		t.Fatalf("%d terms, want the question's %d and 3 more: %v", len(got), len(q.Terms), got)
	}
	for i, term := range got[len(q.Terms):] {
		if term.Weight != 0.25 || strings.HasPrefix(term.Term, "#") || slices.ContainsFunc(q.Terms, func(x search.QueryTerm) bool { return x.Term == term.Term }) {
			t.Errorf("added term %d: %+v", i, term)
		}
		if !strings.Contains(QA0.Answer, term.Term) {
			t.Errorf("added term %q is not in the answer", term.Term)
		}
	}
}

// QA0 is an answer in legal words for the expansion test.
var QA0 = law.QA{Question: "보증금", Answer: "임대차가 종료되면 임대인은 임차인에게 보증금을 반환하여야 하고, 임차인은 임차주택을 인도하여야 합니다. 임대인이 반환하지 않으면 임차권등기명령을 신청할 수 있습니다."}

func TestRankFeatureKinds(t *testing.T) {
	if len(rankFeatureKind) != len(RankFeatures) {
		t.Fatalf("%d feature kinds for %d features", len(rankFeatureKind), len(RankFeatures))
	}
	for i, k := range rankFeatureKind {
		if (Reason{Kind: k, Ref: "x"}).String() == "x" && k != "hand" {
			t.Errorf("feature %s: kind %q has no sentence", RankFeatures[i], k)
		}
	}
}
