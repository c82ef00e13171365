package advice

import (
	"context"
	"log/slog"
	"regexp"
	"slices"

	"github.com/lawbot-kr/lawbot/index"
	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/models"
	"github.com/lawbot-kr/lawbot/search"
	"github.com/lawbot-kr/lawbot/state"
)

// Retriever is the corpus the stages search: one loaded state, its lexical indexes and the
// analyzer that made them, its vector store, the citation parser over its statutes and the
// citation evidence the statute ranking counts, and the statute tagger when there is one.
type Retriever struct {
	State    *state.State
	Indexes  *index.Lexical
	Analyzer *search.Analyzer
	// Parser resolves citations against this state's statutes (built once, shared by the stages).
	Parser *law.CitationParser
	// Dense is the dense side of similar-question and similar-precedent search; nil searches
	// lexically only.
	Dense *index.Dense
	// tagger is the statute tagger (SetTagger); nil ranks without it.
	tagger *tagger
	cites  citationEvidence
}

// citationEvidence is what the statute ranking counts, resolved once per state.
type citationEvidence struct {
	statuteByID map[string]int32
	// Articles (statute numbers) that each precedent's 참조조문 and each Q&A answer cite, limited to
	// articles of the corpus: the evidence of the citation vote.
	precedentCites [][]int32
	qaCites        [][]int32
	// qaLaws are the laws each Q&A answer names ("「주택임대차보호법」에 따라"): most answers name
	// the law without an article, which is still evidence of where to look.
	qaLaws [][]int32
	// lawOf is each statute's law number; lawArticles counts articles per law.
	lawOf []int32
	// citedBy counts the precedents citing each statute.
	citedBy     []float32
	laws        []string
	lawArticles []int32
}

// NewRetriever prepares the citation evidence of a state whose indexes are loaded.
func NewRetriever(st *state.State, ix *index.Lexical, a *search.Analyzer) *Retriever {
	r := &Retriever{State: st, Indexes: ix, Analyzer: a, Parser: law.NewCitationParser(law.NewCatalog(st.Statutes))}
	r.cites = newCitationEvidence(st, r.Parser)
	return r
}

func newCitationEvidence(st *state.State, parser *law.CitationParser) citationEvidence {
	c := citationEvidence{statuteByID: make(map[string]int32, len(st.Statutes))}
	lawNo := map[string]int32{}
	for i := range st.Statutes {
		s := &st.Statutes[i]
		c.statuteByID[s.ID()] = int32(i)
		n, ok := lawNo[s.Law]
		if !ok {
			n = int32(len(c.laws))
			lawNo[s.Law] = n
			c.laws = append(c.laws, s.Law)
			c.lawArticles = append(c.lawArticles, 0)
		}
		c.lawOf = append(c.lawOf, n)
		c.lawArticles[n]++
		c.citedBy = append(c.citedBy, float32(st.Graph.ArticleCitedBy(s.ID())))
	}
	c.precedentCites = make([][]int32, len(st.Precedents))
	for i := range st.Precedents {
		c.precedentCites[i] = c.resolve(st.Precedents[i].CitedStatutes)
	}
	c.qaCites = make([][]int32, len(st.QA))
	c.qaLaws = make([][]int32, len(st.QA))
	for i := range st.QA {
		c.qaCites[i] = c.resolve(law.IDs(parser.Parse(st.QA[i].Answer)))
		c.qaLaws[i] = namedLaws(st.QA[i].Answer, parser, lawNo)
	}
	return c
}

// resolve maps canonical ids to statute numbers, dropping those outside the corpus.
func (c *citationEvidence) resolve(ids []string) []int32 {
	var out []int32
	for _, id := range ids {
		if n, ok := c.statuteByID[id]; ok {
			out = append(out, n)
		}
	}
	return out
}

// Query is a user's text analysed once for every index.
type Query struct {
	Text  string
	Terms []search.QueryTerm
	// vec is the text's embedding, made by the first dense search that needs it (statute
	// search and the per-issue parts never do) and shared by every copy of the query, so that
	// a request embeds its question once however many dense sides are on.
	vec *queryVector
}

type queryVector struct {
	done bool
	v    []float32
}

// Analyze turns text into a query: its content morphemes and its character bigrams ("#"-marked).
func (r *Retriever) Analyze(text string) Query {
	return Query{Text: text, Terms: search.Terms(index.QueryTerms(r.Analyzer, text)), vec: &queryVector{}}
}

// StatuteID is the canonical id of statute number n.
func (r *Retriever) StatuteID(n int32) string { return r.State.Statutes[n].ID() }

// bracketedLawRe finds a law named in 「」, the way answers and statutes write titles.
var bracketedLawRe = regexp.MustCompile(`「([^」]{2,60})」`)

// namedLaws lists the corpus laws that text names in 「」, each once.
func namedLaws(text string, parser *law.CitationParser, lawNo map[string]int32) []int32 {
	var out []int32
	for _, m := range bracketedLawRe.FindAllStringSubmatch(text, -1) {
		if n, ok := lawNo[parser.CanonicalLaw(m[1])]; ok && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// countsEmbedder is an embedder that can take a text's morpheme counts (the LSA): the query's
// analysis is then reused instead of analysing the text a second time.
type countsEmbedder interface {
	EmbedCounts([]models.TermCount) []float32
}

// ContextEmbedder is an embedder whose work a request can call off: it returns when ctx ends.
type ContextEmbedder interface {
	EmbedContext(ctx context.Context, text string) ([]float32, error)
}

// queryVector is the query's embedding, made once per query. When ctx ends first the embedding
// is abandoned (nil): an embedder that takes a ctx stops; one that does not finishes on its own
// while the request moves on.
func (r *Retriever) queryVector(ctx context.Context, q Query) []float32 {
	if q.vec != nil && q.vec.done {
		return q.vec.v
	}
	var v []float32
	switch e := r.Dense.Embedder.(type) {
	case ContextEmbedder:
		var err error
		if v, err = e.EmbedContext(ctx, q.Text); err != nil && ctx.Err() == nil {
			slog.Warn("embedding the question failed; lexical results only", "err", err)
			degrade(ctx, DegradedDense, "the question could not be embedded (the encoder is unavailable); the results are lexical only")
		}
	default:
		if ctx.Done() == nil {
			v = r.embedQuery(q)
			break
		}
		got := make(chan []float32, 1)
		go func() { got <- r.embedQuery(q) }()
		select {
		case v = <-got:
		case <-ctx.Done():
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	if q.vec != nil {
		q.vec.done, q.vec.v = true, v
	}
	return v
}

// embedQuery embeds an analysed query.
func (r *Retriever) embedQuery(q Query) []float32 {
	if e, ok := r.Dense.Embedder.(countsEmbedder); ok {
		counts := make([]models.TermCount, 0, len(q.Terms))
		for _, t := range q.Terms {
			if !index.IsBigram(t.Term) {
				counts = append(counts, models.TermCount{Term: t.Term, Count: int(t.Weight)})
			}
		}
		return e.EmbedCounts(counts)
	}
	return r.Dense.Embedder.Embed(q.Text)
}

// PrecedentCites are the in-corpus articles precedent n's 참조조문 cite, as ids: what its vote
// counts, and the gold of the fold evaluation that asks its 판시사항.
func (r *Retriever) PrecedentCites(n int32) []string {
	cites := r.cites.precedentCites[n]
	out := make([]string, len(cites))
	for i, a := range cites {
		out[i] = r.StatuteID(a)
	}
	return out
}

// QALaws are the laws of the corpus Q&A pair n's answer names: the gold of the question folds,
// which ask its question (held out) and look for those laws among the ranked articles'.
func (r *Retriever) QALaws(n int32) []string {
	laws := r.cites.qaLaws[n]
	out := make([]string, len(laws))
	for i, l := range laws {
		out[i] = r.cites.laws[l]
	}
	return out
}
