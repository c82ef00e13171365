package advice

import (
	"errors"
	"slices"
	"testing"
)

// fakeTagger scores fixed articles, whatever the text: a unit test of the ranking's use of
// tagger scores (the real tagger is tested against its SavedModel in models/).
type fakeTagger struct {
	labels []string
	scores []float32
	err    error
}

func (f fakeTagger) Labels() []string { return f.labels }
func (f fakeTagger) Tag(string) ([]float32, error) {
	return slices.Clone(f.scores), f.err
}

func TestTaggerJoinsTheRanking(t *testing.T) {
	base := retriever(t)
	const text = "전세 계약이 끝났는데 집주인이 보증금을 안 돌려줘요."
	_, _, before := retrieve(t, NewPipeline(base, nil), text, 10)

	// The article the tagger likes most is one the other evidence ranks low or not at all.
	target := before[len(before)-1].Statute.ID()
	r := *base
	p := NewPipeline(&r, nil)
	p.Params.Tagger, p.Params.TaggerTop = 5, 3
	known := r.SetTagger(fakeTagger{labels: []string{"없는법 제1조", target, "민법 제618조"}, scores: []float32{0.99, 0.9, 0.1}})
	if known != 2 {
		t.Fatalf("%d labels resolved, want 2 (one law is not in the state)", known)
	}
	_, _, after := retrieve(t, p, text, 10)
	if after[0].Statute.ID() != target {
		t.Fatalf("with a heavy tagger weight the tagged article %s should lead, got %s", target, after[0].Statute.ID())
	}
	var model *Reason
	for i := range after[0].Reasons {
		if after[0].Reasons[i].Kind == "model" {
			model = &after[0].Reasons[i]
		}
	}
	if model == nil || model.Ref != "0.90" || model.String() == "" {
		t.Errorf("reasons %+v: want a model reason with the raw score", after[0].Reasons)
	}

	// Weight 0 or no tagger: the ranking is the one without it.
	p.Params.Tagger = 0
	if _, _, got := retrieve(t, p, text, 10); !sameArticles(got, before) {
		t.Error("tagger weight 0 changed the ranking")
	}
	// A failing tagger is counted and skipped.
	p.Params.Tagger = 5
	r.SetTagger(fakeTagger{labels: []string{target}, scores: []float32{1}, err: errors.New("session closed")})
	failures := p.Counters.TaggerFailures.Load()
	if _, _, got := retrieve(t, p, text, 10); !sameArticles(got, before) {
		t.Error("a failing tagger changed the ranking")
	}
	if got := p.Counters.TaggerFailures.Load(); got != failures+1 {
		t.Errorf("tagger failures %d → %d, want one more", failures, got)
	}
	// Scores of the wrong length are a failure too, not an index panic.
	r.SetTagger(fakeTagger{labels: []string{target, "민법 제618조"}, scores: []float32{1}})
	if _, _, got := retrieve(t, p, text, 10); !sameArticles(got, before) {
		t.Error("a tagger with too few scores changed the ranking")
	}
	if r.SetTagger(nil); r.HasTagger() {
		t.Error("SetTagger(nil) kept the tagger")
	}
}

func sameArticles(a, b []StatuteMatch) bool {
	return slices.EqualFunc(a, b, func(x, y StatuteMatch) bool { return x.N == y.N })
}
