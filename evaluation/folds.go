package evaluation

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"regexp"
	"strings"
	"time"

	"github.com/lawbot-kr/lawbot/advice"
	"github.com/lawbot-kr/lawbot/internal/progress"
)

// Folds of the corpus: the training queries the corpus gives for free. Each 대법원 decision's
// 판시사항 asks for the articles of its 참조조문, with the decision itself held out of the search
// (so it cannot vote for its own articles), and with its explicit statute mentions removed, as
// the holding dev set was made. The dev sets' decisions are not in the corpus files, so no fold
// holds a dev item. Figures are the mean over folds ± their standard deviation.

// FoldCase is one corpus query: the statute case and the decision it was taken from.
type FoldCase struct {
	StatuteCase
	Precedent int32
}

// statuteMentionRe matches an explicit article mention with its law, "민법 제618조", "주택임대차보호법
// 제3조의2 제1항", or a bare "제3조 제2호": the holding dev set's queries have them removed.
var statuteMentionRe = regexp.MustCompile(`(?:[가-힣·]*법(?:\s*시행령|\s*시행규칙)?\s*)?제\d+조(?:의\d+)?(?:\s*제\d+항)?(?:\s*제\d+호)?(?:\s*[가-하]목)?`)

// StripStatuteMentions removes the explicit article mentions from a 판시사항.
func StripStatuteMentions(text string) string {
	out := statuteMentionRe.ReplaceAllString(text, "")
	return strings.Join(strings.Fields(out), " ")
}

// CorpusHoldingCases draws n decisions of the 대법원 (all when n ≤ 0) whose 판시사항 is there and
// whose 참조조문 cite at least one article of the corpus, in a seeded random order.
func CorpusHoldingCases(r *advice.Retriever, n int, seed uint64) []FoldCase {
	st := r.State
	var out []FoldCase
	for i := range st.Precedents {
		p := &st.Precedents[i]
		if p.CourtLevel != "대법원" || strings.TrimSpace(p.Holding) == "" {
			continue
		}
		gold := r.PrecedentCites(int32(i))
		query := StripStatuteMentions(p.Holding)
		if len(gold) == 0 || len([]rune(query)) < 10 {
			continue
		}
		out = append(out, FoldCase{StatuteCase: StatuteCase{ID: p.CaseNo, Query: query, Gold: gold}, Precedent: int32(i)})
	}
	return sample(out, n, rand.New(rand.NewPCG(seed, seed^0xf01d5)))
}

// sample shuffles items with rng and keeps the first n (all when n ≤ 0).
func sample[T any](items []T, n int, rng *rand.Rand) []T {
	rng.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
	if n > 0 && n < len(items) {
		items = items[:n]
	}
	return items
}

// heldOut is p asking c's query without c's decision, or any other of its case number, among
// the similar precedents.
func (c FoldCase) heldOut(p *advice.Pipeline) advice.Pipeline {
	held := *p
	precs := p.Retriever.State.Precedents
	caseNo := precs[c.Precedent].CaseNo
	held.HeldOutPrecedent = func(n int32) bool { return n == c.Precedent || precs[n].CaseNo == caseNo }
	return held
}

// FoldReport is the ranking measured per fold, with the folds' mean and spread.
type FoldReport struct {
	Folds  []RankingMetrics `json:"folds"`
	Mean   RankingMetrics   `json:"mean"`
	Spread RankingMetrics   `json:"spread"` // standard deviation over folds
}

// HoldingFolds asks each case's query through the pipeline with its decision (and any other
// decision of the same case number) held out, and splits the cases into folds round robin.
// Progress, when set, shows a bar; seen, when set, gets each case's result.
func HoldingFolds(ctx context.Context, p *advice.Pipeline, cases []FoldCase, k, folds int, progressTo io.Writer, seen func(FoldCase, *advice.Result)) (*FoldReport, error) {
	if len(cases) == 0 {
		return nil, fmt.Errorf("no corpus queries")
	}
	folds = max(1, min(folds, len(cases)))
	var bar *progress.Bar
	if progressTo != nil {
		bar = progress.New(progressTo, progress.Options{Label: "folds", Total: int64(len(cases)), Unit: "queries"})
	}
	per := make([]RankingMetrics, folds)
	lat := make([][]time.Duration, folds)
	for i, c := range cases {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		held := c.heldOut(p)
		held.Sizes.Statutes = max(k, 10)
		start := time.Now()
		res, err := held.Advise(ctx, c.Query, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.ID, err)
		}
		f := i % folds
		lat[f] = append(lat[f], time.Since(start))
		ids := make([]string, len(res.Statutes))
		for j, s := range res.Statutes {
			ids[j] = s.Statute.ID()
		}
		per[f].K = k
		scoreRanking(&per[f], ids, c.Gold, k)
		if seen != nil {
			seen(c, res)
		}
		if bar != nil {
			bar.Update(int64(i+1), int64(i+1))
		}
	}
	if bar != nil {
		bar.Finish()
	}
	rep := &FoldReport{}
	for f := range per {
		m := per[f]
		if m.Queries == 0 {
			continue
		}
		n := float64(m.Queries)
		m.RecallA, m.RecallK, m.HitK, m.MRRK = m.RecallA/n, m.RecallK/n, m.HitK/n, m.MRRK/n
		m.P50ms, m.P99ms = percentileMs(lat[f], 0.50), percentileMs(lat[f], 0.99)
		rep.Folds = append(rep.Folds, m)
	}
	rep.Mean, rep.Spread = rankingMeanSpread(rep.Folds)
	return rep, nil
}

// rankingMeanSpread is each figure's mean over folds and its standard deviation.
func rankingMeanSpread(folds []RankingMetrics) (mean, spread RankingMetrics) {
	fields := []func(*RankingMetrics) *float64{
		func(m *RankingMetrics) *float64 { return &m.RecallA },
		func(m *RankingMetrics) *float64 { return &m.RecallK },
		func(m *RankingMetrics) *float64 { return &m.HitK },
		func(m *RankingMetrics) *float64 { return &m.MRRK },
		func(m *RankingMetrics) *float64 { return &m.P50ms },
		func(m *RankingMetrics) *float64 { return &m.P99ms },
	}
	n := float64(len(folds))
	if n == 0 {
		return
	}
	for _, get := range fields {
		var sum float64
		for i := range folds {
			sum += *get(&folds[i])
		}
		mu := sum / n
		var ss float64
		for i := range folds {
			d := *get(&folds[i]) - mu
			ss += d * d
		}
		*get(&mean), *get(&spread) = mu, math.Sqrt(ss/n)
	}
	for _, f := range folds {
		mean.Queries += f.Queries
		mean.K = f.K
	}
	return mean, spread
}

// QuestionCase is a corpus Q&A pair asked as a question: the laws its expert answer names are
// the gold (few answers cite an article by number, most name the law), the pair held out.
type QuestionCase struct {
	ID       string
	Query    string
	GoldLaws []string
	QA       int32
}

// CorpusQuestionCases draws n Q&A pairs (all when n ≤ 0) whose answers name a law of the
// corpus, in a seeded random order.
func CorpusQuestionCases(r *advice.Retriever, n int, seed uint64) []QuestionCase {
	st := r.State
	var out []QuestionCase
	for i := range st.QA {
		laws := r.QALaws(int32(i))
		if len(laws) == 0 || strings.TrimSpace(st.QA[i].Question) == "" {
			continue
		}
		out = append(out, QuestionCase{ID: fmt.Sprintf("qa-%d", i), Query: st.QA[i].Question, GoldLaws: laws, QA: int32(i)})
	}
	return sample(out, n, rand.New(rand.NewPCG(seed, seed^0x9a55)))
}

// LawMetrics are the question folds' figures: the share of the gold laws found among the laws
// of the top k articles, and the share of questions whose first article is of a gold law.
type LawMetrics struct {
	Queries    int     `json:"queries"`
	LawRecallK float64 `json:"law_recall_at_k"`
	LawP1      float64 `json:"first_article_law_precision"`
	K          int     `json:"k"`
}

// LawFoldReport is LawMetrics per fold, with mean and spread.
type LawFoldReport struct {
	Folds        []LawMetrics `json:"folds"`
	Mean, Spread LawMetrics
}

// QuestionFolds asks each pair's question with the pair (and its copies) held out, and scores
// the laws of the ranked articles against the laws its answer names.
func QuestionFolds(ctx context.Context, p *advice.Pipeline, cases []QuestionCase, k, folds int, progressTo io.Writer) (*LawFoldReport, error) {
	if len(cases) == 0 {
		return nil, fmt.Errorf("no corpus questions")
	}
	folds = max(1, min(folds, len(cases)))
	st := p.Retriever.State
	var bar *progress.Bar
	if progressTo != nil {
		bar = progress.New(progressTo, progress.Options{Label: "question folds", Total: int64(len(cases)), Unit: "queries"})
	}
	per := make([]LawMetrics, folds)
	for i, c := range cases {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		held := *p
		held.Sizes.Statutes = max(k, 10)
		held.HeldOut = func(n int32) bool { return n == c.QA || sameQuestion(st, n, c.QA) }
		res, err := held.Advise(ctx, c.Query, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.ID, err)
		}
		gold := map[string]bool{}
		for _, l := range c.GoldLaws {
			gold[l] = true
		}
		found := map[string]bool{}
		for j, s := range res.Statutes {
			if j >= k {
				break
			}
			if gold[s.Statute.Law] {
				found[s.Statute.Law] = true
			}
		}
		f := &per[i%folds]
		f.Queries++
		f.K = k
		f.LawRecallK += float64(len(found)) / float64(len(gold))
		if len(res.Statutes) > 0 && gold[res.Statutes[0].Statute.Law] {
			f.LawP1++
		}
		if bar != nil {
			bar.Update(int64(i+1), int64(i+1))
		}
	}
	if bar != nil {
		bar.Finish()
	}
	rep := &LawFoldReport{}
	var recall, p1 []float64
	for _, f := range per {
		if f.Queries == 0 {
			continue
		}
		f.LawRecallK /= float64(f.Queries)
		f.LawP1 /= float64(f.Queries)
		rep.Folds = append(rep.Folds, f)
		recall, p1 = append(recall, f.LawRecallK), append(p1, f.LawP1)
		rep.Mean.Queries += f.Queries
	}
	rep.Mean.K, rep.Spread.K = k, k
	rep.Mean.LawRecallK, rep.Spread.LawRecallK = MeanSD(recall)
	rep.Mean.LawP1, rep.Spread.LawP1 = MeanSD(p1)
	return rep, nil
}
