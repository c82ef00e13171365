package advice

import (
	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/search"
	"github.com/lawbot-kr/lawbot/state"
)

// Retriever answers the retrieval stages of a request over one loaded state: similar Q&A,
// similar precedents and the ranked statute articles.
type Retriever struct {
	State    *state.State
	Indexes  *Indexes
	Analyzer *search.Analyzer
	Params   Params

	statuteByID map[string]int32
	// Articles (statute numbers) that each precedent's 참조조문 and each Q&A answer cite, limited to
	// articles of the corpus: the evidence of the citation vote.
	precedentCites [][]int32
	qaCites        [][]int32
	// lawOf is each statute's law number; lawArticles counts articles per law.
	lawOf []int32
	// citedBy counts the precedents citing each statute.
	citedBy     []float32
	laws        []string
	lawArticles []int32
}

// NewRetriever prepares the citation evidence of a state whose indexes are loaded.
func NewRetriever(st *state.State, ix *Indexes, a *search.Analyzer) *Retriever {
	r := &Retriever{State: st, Indexes: ix, Analyzer: a, Params: DefaultParams(),
		statuteByID: make(map[string]int32, len(st.Statutes))}
	lawNo := map[string]int32{}
	for i := range st.Statutes {
		s := &st.Statutes[i]
		r.statuteByID[s.ID()] = int32(i)
		n, ok := lawNo[s.Law]
		if !ok {
			n = int32(len(r.laws))
			lawNo[s.Law] = n
			r.laws = append(r.laws, s.Law)
			r.lawArticles = append(r.lawArticles, 0)
		}
		r.lawOf = append(r.lawOf, n)
		r.lawArticles[n]++
		r.citedBy = append(r.citedBy, float32(st.Graph.ArticleCitedBy(s.ID())))
	}
	r.precedentCites = make([][]int32, len(st.Precedents))
	for i := range st.Precedents {
		r.precedentCites[i] = r.resolve(st.Precedents[i].CitedStatutes)
	}
	catalog := law.NewCatalog(st.Statutes)
	parser := law.NewCitationParser(catalog)
	r.qaCites = make([][]int32, len(st.QA))
	for i := range st.QA {
		r.qaCites[i] = r.resolve(law.IDs(parser.Parse(st.QA[i].Answer)))
	}
	return r
}

// resolve maps canonical ids to statute numbers, dropping those outside the corpus.
func (r *Retriever) resolve(ids []string) []int32 {
	var out []int32
	for _, id := range ids {
		if n, ok := r.statuteByID[id]; ok {
			out = append(out, n)
		}
	}
	return out
}

// Query is a user's text analysed once for every index.
type Query struct {
	Text  string
	Terms []search.QueryTerm
	// Match is how much of the query the best similar precedent matches, in (0, 1]; set by
	// Retrieve, 0 when unknown.
	Match float32
}

// Analyze turns text into a query: its content morphemes and its character bigrams ("#"-marked).
func (r *Retriever) Analyze(text string) Query {
	terms := r.Analyzer.Morphemes(text)
	terms = append(terms, bigramTerms(r.Analyzer.Bigrams(text))...)
	return Query{Text: text, Terms: search.Terms(terms)}
}

// StatuteID is the canonical id of statute number n.
func (r *Retriever) StatuteID(n int32) string { return r.State.Statutes[n].ID() }
