package advice

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/lawbot-kr/lawbot/index"
	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/search"
)

// Reason is one piece of evidence for suggesting an article.
type Reason struct {
	Kind   string  `json:"kind"`   // precedent | qa | lexical | semantic | cocited | law | model | popular
	Ref    string  `json:"ref"`    // case number, Q&A question, co-cited article or law
	Weight float32 `json:"weight"` // its share of the article's score
}

// String renders a reason for people, in Korean.
func (r Reason) String() string {
	switch r.Kind {
	case "precedent":
		return fmt.Sprintf("유사 판례 %s에서 인용", r.Ref)
	case "qa":
		return fmt.Sprintf("유사 상담 답변에서 인용: %s", r.Ref)
	case "lexical":
		return "질문과 조문 내용이 일치"
	case "cocited":
		return fmt.Sprintf("%s와 함께 자주 인용됨", r.Ref)
	case "law":
		return fmt.Sprintf("관련 법령: %s", r.Ref)
	case "semantic":
		return "질문과 조문의 뜻이 가까움"
	case "model":
		return fmt.Sprintf("판례로 학습한 조문 예측 모델의 추천 (%s)", r.Ref)
	case "popular":
		return "판례에서 자주 인용되는 조문"
	}
	return r.Ref
}

// StatuteMatch is a ranked article with the evidence behind it.
type StatuteMatch struct {
	N       int32 // number in the state's statute list
	Statute *law.Statute
	Score   float32
	Reasons []Reason
}

// maxReasonsPerKind keeps explanations short: the strongest few of each kind.
const maxReasonsPerKind = 3

// evidence accumulates one article's scores by kind, with the strongest contributors.
type evidence struct {
	direct, precedent, qa, cocite float32
	tag                           float32        // the statute tagger's score, scaled by the best
	semantic                      float32        // the article's nearness to the query in the encoder's space, by rank
	precedents, qas               []contribution // raw vote weights, before normalisation
}

type contribution struct {
	n int32
	w float32
}

// rankStatutes is the fourth stage: the articles to consider, with the evidence behind each,
// and the citation graph around them.
type rankStatutes struct {
	corpus   *Retriever
	counters *Counters
	// ranker, when set, scores the candidates instead of the hand weights; candidates, when
	// set, hears every candidate's features (the ranker's training and evaluation).
	ranker     *StatuteRanker
	candidates func([]StatuteCandidate)
}

func (rankStatutes) Name() StageName { return StageStatutes }

func (s rankStatutes) Run(ctx context.Context, req *Request) error {
	res := req.Result
	res.Statutes = s.rank(ctx, req.Query(), req.Match, req.QAVoters, req.PrecedentVoters,
		req.Params.SearchParams, req.Params.StatuteParams, req.Sizes.Statutes)
	res.Graph = s.corpus.citationGraph(res)
	return nil
}

// rank ranks the articles to consider for a query from four kinds of evidence: (a) the
// article's own text matching the query; (b) the articles cited by the voting precedents and
// (c) by the voting Q&A answers, each voter weighted by its similarity; then co-citation
// expansion from the citation graph and the evidence for each article's law as a whole. match
// is how much of the query the best similar precedent matches.
func (s rankStatutes) rank(ctx context.Context, q Query, match float32, qas []QAMatch, precs []PrecedentMatch,
	sp SearchParams, p StatuteParams, k int) []StatuteMatch {
	r := s.corpus
	ev := map[int32]*evidence{}
	get := func(n int32) *evidence {
		e, ok := ev[n]
		if !ok {
			e = &evidence{}
			ev[n] = e
		}
		return e
	}

	// (a) direct article search, the question's words with the legal words of the most similar
	// answers when expansion is on.
	if p.Direct > 0 {
		terms := q.Terms
		if p.ExpandTerms > 0 {
			terms = r.expandTerms(q.Terms, qas, p)
		}
		hits := r.Indexes.Statutes.Search(terms, search.Params{K1: sp.K1, Fields: p.StatuteFields}, p.DirectTop)
		for i, h := range hits {
			if p.DirectDecay > 0 {
				get(h.Doc).direct = 1 / (1 + float32(i)/p.DirectDecay)
			} else {
				get(h.Doc).direct = h.Score / hits[0].Score
			}
		}
	}
	// (b) precedents' 참조조문 and (c) Q&A answers' citations, each voter by (score/best)^sharpness
	// and spread over what it cites, so that a decision citing twenty articles says less of each.
	vote := func(voters int, score func(i int) float32, cites func(i int) []int32, n func(i int) int32,
		into func(*evidence) *float32, who func(*evidence) *[]contribution) {
		if voters == 0 {
			return
		}
		best := score(0)
		for i := range voters {
			c := cites(i)
			if len(c) == 0 || best <= 0 {
				continue
			}
			w := float32(math.Pow(float64(score(i)/best), float64(p.Sharpness))) / float32(math.Pow(float64(len(c)), float64(p.Spread)))
			for _, a := range c {
				e := get(a)
				w := w
				if p.Popularity != 0 {
					w /= float32(math.Pow(1+math.Log1p(float64(r.cites.citedBy[a])), float64(p.Popularity)))
				}
				*into(e) += w
				*who(e) = append(*who(e), contribution{n(i), w})
			}
		}
	}
	np := len(precs)
	vote(np, func(i int) float32 { return precs[i].Score }, func(i int) []int32 { return r.cites.precedentCites[precs[i].N] },
		func(i int) int32 { return precs[i].N }, func(e *evidence) *float32 { return &e.precedent },
		func(e *evidence) *[]contribution { return &e.precedents })
	nq := len(qas)
	vote(nq, func(i int) float32 { return qas[i].Score }, func(i int) []int32 { return r.cites.qaCites[qas[i].N] },
		func(i int) int32 { return qas[i].N }, func(e *evidence) *float32 { return &e.qa },
		func(e *evidence) *[]contribution { return &e.qas })

	// (a′) the articles nearest the query in the trained encoder's space: the same question as
	// (a) asked by meaning instead of by words, scored by rank like (a).
	if r.Dense != nil && r.Dense.Statutes && p.DenseStatutes > 0 && p.DenseStatuteTop > 0 {
		for i, h := range r.denseSearch(ctx, s.counters, q, index.KindStatute, p.DenseStatuteTop, search.Filter{}) {
			if int(h.N) < len(r.State.Statutes) {
				get(h.N).semantic = 1 / (1 + float32(i)/max(p.DirectDecay, 1))
			}
		}
	}
	// (d) the statute tagger: a model trained on precedents (판시사항 + 판결요지 → 참조조문) scores
	// the articles it knows for the query.
	rawTag := r.tagArticles(ctx, s.counters, p, q.Text, ev, get)
	precedentScale := normalize(ev, func(e *evidence) *float32 { return &e.precedent })
	qaScale := normalize(ev, func(e *evidence) *float32 { return &e.qa })

	direct, precedent := p.Direct, p.Precedent
	if p.Confidence > 0 && match > 0 {
		precedent *= float32(math.Pow(float64(match/0.25), float64(p.Confidence)))
		direct *= float32(math.Pow(float64((1-match)/0.75), float64(p.Confidence)))
	}
	// The tagger learned from precedents' language; on other text its scores stay low. It counts
	// as much as its own best score, raised to TaggerConfidence (0: always its full weight).
	tag := p.Tagger
	if p.TaggerConfidence > 0 {
		var best float32
		for _, x := range rawTag {
			best = max(best, x)
		}
		tag *= float32(math.Pow(float64(best), float64(p.TaggerConfidence)))
	}
	// Meaning-nearness counts against the vote as the article's own words do.
	semantic := p.DenseStatutes
	if p.Direct > 0 {
		semantic *= direct / p.Direct
	}
	base := func(e *evidence) float32 {
		return direct*e.direct + precedent*e.precedent + p.QA*e.qa + tag*e.tag + semantic*e.semantic
	}

	// Co-citation: articles often cited together with the strongest candidates.
	cocitedWith := map[int32]int32{}
	if p.CoCite > 0 {
		seeds := topByScore(ev, base, cocitationSeeds)
		for _, a := range seeds {
			id := r.StatuteID(a)
			total := float32(r.State.Graph.ArticleCitedBy(id))
			if total == 0 {
				continue
			}
			for _, c := range r.State.Graph.CoCited(id, cocitationFanout) {
				b, ok := r.cites.statuteByID[c.ArticleID]
				if !ok {
					continue
				}
				e := get(b)
				w := base(ev[a]) * float32(c.Count) / total
				if w > e.cocite {
					e.cocite = w
					cocitedWith[b] = a
				}
			}
		}
		normalize(ev, func(e *evidence) *float32 { return &e.cocite })
	}

	// Law-level evidence: the share of all evidence that points into each law. Summed in article
	// order, not map order: float sums in a random order differ in the last bits from run to run,
	// which reorders near-ties.
	articles := make([]int32, 0, len(ev))
	for a := range ev {
		articles = append(articles, a)
	}
	slices.Sort(articles)
	lawMass := make([]float32, len(r.cites.laws))
	var totalMass float32
	for _, a := range articles {
		m := base(ev[a])
		lawMass[r.cites.lawOf[a]] += m
		totalMass += m
	}
	if p.QALaw > 0 && nq > 0 && qas[0].Score > 0 {
		// Each similar answer adds mass to the laws it names, as much as its similarity.
		for i := range nq {
			w := p.QALaw * qas[i].Score / qas[0].Score
			for _, l := range r.cites.qaLaws[qas[i].N] {
				lawMass[l] += w
				totalMass += w
			}
		}
	}

	// The hand weights' score of an article, from the share of all evidence in its law.
	shareOf := func(a int32) float32 {
		if totalMass == 0 {
			return 0
		}
		return lawMass[r.cites.lawOf[a]] / totalMass
	}
	handScore := func(a int32, lawShare float32) float32 {
		e := ev[a]
		return base(e) + p.CoCite*e.cocite + p.LawPrior*lawShare
	}
	out := make([]StatuteMatch, 0, len(ev))
	tagScale := float32(1)
	if p.Tagger > 0 {
		tagScale = tag / p.Tagger
	}
	ranker := s.ranker
	if p.LearnedRanker == 0 || (ranker != nil && match < ranker.MinMatch) {
		ranker = nil
	}
	learned := ranker != nil || s.candidates != nil
	var cands []StatuteCandidate
	var feats map[int32][]float32
	var featList [][]float32
	var hands []float32
	var facts *queryFacts
	if learned {
		feats = make(map[int32][]float32, len(ev))
		facts = newQueryFacts(q.Text, precs)
	}
	for _, a := range articles {
		e := ev[a]
		lawShare := shareOf(a)
		score := handScore(a, lawShare)
		if learned {
			f := r.features(e, a, match, lawShare, np, tagScale, facts)
			feats[a] = f
			featList, hands = append(featList, f), append(hands, score)
		}
		out = append(out, StatuteMatch{N: a, Statute: &r.State.Statutes[a], Score: score})
	}
	if learned {
		handFeatures(featList, hands)
		for i := range out {
			if s.candidates != nil {
				cands = append(cands, StatuteCandidate{N: out[i].N, ID: r.StatuteID(out[i].N), Features: featList[i], Hand: hands[i], Match: match})
			}
			if ranker != nil {
				out[i].Score = ranker.Score(featList[i])
			}
		}
	}
	if s.candidates != nil {
		s.candidates(cands)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].N < out[j].N
	})
	if k > 0 && len(out) > k {
		out = out[:k]
	}
	for i := range out {
		e := ev[out[i].N]
		if ranker != nil {
			hand := r.reasons(p, e, handScore(out[i].N, shareOf(out[i].N)), cocitedWith[out[i].N], out[i].N, lawMass, totalMass,
				precedentScale, qaScale, rawTag[out[i].N], tag, semantic)
			out[i].Reasons = r.learnedReasons(ranker, e, feats[out[i].N], cocitedWith[out[i].N], out[i].N, precedentScale, qaScale, rawTag[out[i].N], hand)
			continue
		}
		out[i].Reasons = r.reasons(p, e, out[i].Score, cocitedWith[out[i].N], out[i].N, lawMass, totalMass,
			precedentScale, qaScale, rawTag[out[i].N], tag, semantic)
	}
	return out
}

// learnedReasons explains a learned score: each feature's contribution (weight × value) under
// its kind, the precedent and Q&A shares split over the strongest voters as their votes split;
// only what pushed the article up is shown, as shares of the positive total.
func (r *Retriever) learnedReasons(m *StatuteRanker, e *evidence, f []float32, cocitedWith, a int32, precedentScale, qaScale, rawTag float32, hand []Reason) []Reason {
	byKind := map[string]float32{}
	var total float32
	for i, w := range m.Weights {
		if c := w * f[i]; c > 0 {
			byKind[rankFeatureKind[i]] += c
			total += c
		}
	}
	if total <= 0 {
		return nil
	}
	var out []Reason
	split := func(kind string, cs []contribution, scale, sum float32, ref func(n int32) string) {
		share := byKind[kind] / total
		if share <= 0 || sum <= 0 {
			return
		}
		for _, c := range strongest(cs) {
			out = append(out, Reason{kind, ref(c.n), share * c.w * scale / sum})
		}
	}
	split("precedent", e.precedents, precedentScale, e.precedent, func(n int32) string { return r.State.Precedents[n].CaseNo })
	split("qa", e.qas, qaScale, e.qa, func(n int32) string { return r.State.QA[n].Question })
	if w := byKind["lexical"]; w > 0 {
		out = append(out, Reason{"lexical", r.StatuteID(a), w / total})
	}
	if w := byKind["semantic"]; w > 0 {
		out = append(out, Reason{"semantic", r.StatuteID(a), w / total})
	}
	if w := byKind["model"]; w > 0 {
		out = append(out, Reason{"model", fmt.Sprintf("%.2f", rawTag), w / total})
	}
	if w := byKind["cocited"]; w > 0 && cocitedWith >= 0 && e.cocite > 0 {
		out = append(out, Reason{"cocited", r.StatuteID(cocitedWith), w / total})
	}
	if w := byKind["law"]; w > 0 {
		out = append(out, Reason{"law", r.cites.laws[r.cites.lawOf[a]], w / total})
	}
	if w := byKind["popular"]; w > 0 {
		out = append(out, Reason{"popular", r.StatuteID(a), w / total})
	}
	// The hand score's share is shown as the hand ranking's own reasons, scaled.
	if w := byKind["hand"]; w > 0 {
		for _, h := range hand {
			h.Weight *= w / total
			out = append(out, h)
		}
	}
	// One line per kind and reference.
	merged := map[[2]string]int{}
	var uniq []Reason
	for _, x := range out {
		k := [2]string{x.Kind, x.Ref}
		if i, ok := merged[k]; ok {
			uniq[i].Weight += x.Weight
			continue
		}
		merged[k] = len(uniq)
		uniq = append(uniq, x)
	}
	sort.SliceStable(uniq, func(i, j int) bool { return uniq[i].Weight > uniq[j].Weight })
	return uniq
}

// expandTerms adds to a question's terms the morphemes that weigh most in its most similar
// answers (tf × idf in the statute index), as lay words find the legal ones: "월급" finds "임금".
func (r *Retriever) expandTerms(terms []search.QueryTerm, qas []QAMatch, p StatuteParams) []search.QueryTerm {
	have := make(map[string]bool, len(terms))
	for _, t := range terms {
		have[t.Term] = true
	}
	weight := map[string]float32{}
	for i := range min(p.ExpandQA, len(qas)) {
		for _, t := range index.QueryTerms(r.Analyzer, qas[i].QA.Answer) {
			if index.IsBigram(t) || have[t] {
				continue
			}
			weight[t] += r.Indexes.Statutes.IDF(t)
		}
	}
	extra := make([]search.QueryTerm, 0, len(weight))
	for t, w := range weight {
		extra = append(extra, search.QueryTerm{Term: t, Weight: w})
	}
	sort.Slice(extra, func(i, j int) bool {
		if extra[i].Weight != extra[j].Weight {
			return extra[i].Weight > extra[j].Weight
		}
		return extra[i].Term < extra[j].Term
	})
	extra = extra[:min(p.ExpandTerms, len(extra))]
	out := slices.Clone(terms)
	for _, t := range extra {
		out = append(out, search.QueryTerm{Term: t.Term, Weight: p.ExpandWeight})
	}
	return out
}

const (
	cocitationSeeds  = 10 // strongest candidates whose co-cited articles are considered
	cocitationFanout = 20 // co-cited articles taken per seed
)

// reasons explains one article's score, strongest evidence first.
func (r *Retriever) reasons(p StatuteParams, e *evidence, score float32, cocitedWith, a int32, lawMass []float32, totalMass float32,
	precedentScale, qaScale, rawTag, tag, semantic float32) []Reason {
	if score <= 0 {
		return nil
	}
	var out []Reason
	for _, c := range strongest(e.precedents) {
		out = append(out, Reason{"precedent", r.State.Precedents[c.n].CaseNo, p.Precedent * c.w * precedentScale / score})
	}
	for _, c := range strongest(e.qas) {
		out = append(out, Reason{"qa", r.State.QA[c.n].Question, p.QA * c.w * qaScale / score})
	}
	if e.direct > 0 {
		out = append(out, Reason{"lexical", r.StatuteID(a), p.Direct * e.direct / score})
	}
	if e.semantic > 0 {
		out = append(out, Reason{"semantic", r.StatuteID(a), semantic * e.semantic / score})
	}
	if e.tag > 0 {
		out = append(out, Reason{"model", fmt.Sprintf("%.2f", rawTag), tag * e.tag / score})
	}
	if e.cocite > 0 {
		out = append(out, Reason{"cocited", r.StatuteID(cocitedWith), p.CoCite * e.cocite / score})
	}
	if totalMass > 0 && p.LawPrior > 0 {
		out = append(out, Reason{"law", r.cites.laws[r.cites.lawOf[a]], p.LawPrior * lawMass[r.cites.lawOf[a]] / totalMass / score})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Weight > out[j].Weight })
	return out
}

func strongest(cs []contribution) []contribution {
	sort.Slice(cs, func(i, j int) bool { return cs[i].w > cs[j].w })
	return cs[:min(len(cs), maxReasonsPerKind)]
}

// normalize scales one evidence kind so that its best article has 1, and returns the scale.
func normalize(ev map[int32]*evidence, field func(*evidence) *float32) float32 {
	var best float32
	for _, e := range ev {
		best = max(best, *field(e))
	}
	if best == 0 {
		return 0
	}
	for _, e := range ev {
		*field(e) /= best
	}
	return 1 / best
}

// topByScore lists the n articles with the highest score.
func topByScore(ev map[int32]*evidence, score func(*evidence) float32, n int) []int32 {
	all := make([]int32, 0, len(ev))
	for a := range ev {
		all = append(all, a)
	}
	sort.Slice(all, func(i, j int) bool {
		si, sj := score(ev[all[i]]), score(ev[all[j]])
		return si > sj || (si == sj && all[i] < all[j])
	})
	return all[:min(n, len(all))]
}
