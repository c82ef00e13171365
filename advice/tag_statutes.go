package advice

import (
	"context"
	"log/slog"
	"sort"
)

// ArticleTagger scores the articles it was trained on for a text: the statute tagger (a
// TensorFlow model trained on precedents' 판시사항 and 판결요지 → 참조조문).
type ArticleTagger interface {
	Labels() []string // article ids, in score order
	Tag(text string) ([]float32, error)
}

// contextTagger is a tagger whose run the request can abandon (models.ManagedTagger,
// models.TFTagger): when the request's ctx ends, the call returns at once.
type contextTagger interface {
	TagContext(ctx context.Context, text string) ([]float32, error)
}

// tagger is a tagger with its labels resolved to the state's statutes.
type tagger struct {
	ArticleTagger
	statute []int32 // label → statute number, -1 when the article is not in the state
}

// SetTagger lets the statute tagger's scores join the ranking (weight Params.Tagger); nil
// removes it. It returns how many of its labels are articles of the state.
func (r *Retriever) SetTagger(t ArticleTagger) int {
	if t == nil {
		r.tagger = nil
		return 0
	}
	labels := t.Labels()
	tg := &tagger{ArticleTagger: t, statute: make([]int32, len(labels))}
	known := 0
	for i, id := range labels {
		tg.statute[i] = -1
		if n, ok := r.cites.statuteByID[id]; ok {
			tg.statute[i] = n
			known++
		}
	}
	r.tagger = tg
	return known
}

// HasTagger reports whether the statute tagger is in the ranking.
func (r *Retriever) HasTagger() bool { return r.tagger != nil }

// tagArticles adds the tagger's best Params.TaggerTop articles to the evidence, scaled so the
// best has 1, and returns each article's raw score for the reasons.
func (r *Retriever) tagArticles(ctx context.Context, c *Counters, p StatuteParams, text string, ev map[int32]*evidence, get func(int32) *evidence) map[int32]float32 {
	if r.tagger == nil || p.Tagger <= 0 || p.TaggerTop <= 0 {
		return nil
	}
	var scores []float32
	var err error
	if ct, ok := r.tagger.ArticleTagger.(contextTagger); ok {
		scores, err = ct.TagContext(ctx, text)
	} else {
		scores, err = r.tagger.Tag(text)
	}
	if ctx.Err() != nil {
		return nil // the request is over; not the tagger's failure
	}
	if err != nil || len(scores) != len(r.tagger.statute) {
		c.TaggerFailures.Add(1)
		slog.Warn("statute tagger failed; ranking without it", "err", err, "scores", len(scores))
		degrade(ctx, DegradedTagger, "the statute tagger failed; the ranking went on without it")
		return nil
	}
	order := make([]int, 0, len(scores))
	for i, n := range r.tagger.statute {
		if n >= 0 {
			order = append(order, i)
		}
	}
	sort.Slice(order, func(a, b int) bool {
		return scores[order[a]] > scores[order[b]] || (scores[order[a]] == scores[order[b]] && order[a] < order[b])
	})
	order = order[:min(len(order), p.TaggerTop)]
	if len(order) == 0 || scores[order[0]] <= 0 {
		return nil
	}
	best := scores[order[0]]
	raw := make(map[int32]float32, len(order))
	for _, i := range order {
		n := r.tagger.statute[i]
		get(n).tag = scores[i] / best
		raw[n] = scores[i]
	}
	return raw
}
