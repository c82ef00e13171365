// Package lookup finds statutes and precedents of the corpus by id and says who cites them: one
// look-up for "lawbot statute", "lawbot precedent" and the GraphQL API alike.
package lookup

import (
	"fmt"
	"strings"

	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/state"
)

// Corpus answers look-ups over one loaded state. It only reads the state, so one Corpus serves
// any number of goroutines.
type Corpus struct {
	st *state.State
}

// New looks things up in st.
func New(st *state.State) *Corpus { return &Corpus{st: st} }

// Statute finds an article by id ("민법 제618조"), forgiving spacing slips and a missing 제
// ("민법 618조", "민법제618조").
func (c *Corpus) Statute(id string) (*law.Statute, bool) { return c.st.Statute(id) }

// Precedent finds a decision by case number, including one number of a joined case.
func (c *Corpus) Precedent(caseNo string) (*law.Precedent, bool) { return c.st.Precedent(caseNo) }

// Article is an article id as a precedent or a co-citation names it, resolved against the corpus.
// Its JSON is what "lawbot statute --json" and "lawbot precedent --json" print.
type Article struct {
	ID       string `json:"id"` // as cited
	Title    string `json:"title,omitempty"`
	InCorpus bool   `json:"in_corpus"`
	// Count is, for a co-cited article, how many precedents cite both.
	Count int `json:"count,omitempty"`
	// Statute is the article itself; nil when it is not in the corpus (a repealed or renumbered
	// article, or a law not collected).
	Statute *law.Statute `json:"-"`
}

// Article resolves one article id against the corpus: the one answer to "is this article in
// the corpus".
func (c *Corpus) Article(id string) Article {
	a := Article{ID: id}
	if s, ok := c.st.Statute(id); ok {
		a.Title, a.InCorpus, a.Statute = s.Title, true, s
	}
	return a
}

// Articles resolves article ids (a precedent's 참조조문, an answer's citations) in order.
func (c *Corpus) Articles(ids []string) []Article {
	out := make([]Article, len(ids))
	for i, id := range ids {
		out[i] = c.Article(id)
	}
	return out
}

// PrecedentsCiting lists at most n precedents that cite an article (canonical id), newest
// first; n ≤ 0 means all.
func (c *Corpus) PrecedentsCiting(articleID string, n int) []*law.Precedent {
	return c.st.Graph.PrecedentsCiting(articleID, n)
}

// PrecedentsCitingCase lists at most n precedents whose 참조판례 name a case, newest first;
// n ≤ 0 means all.
func (c *Corpus) PrecedentsCitingCase(caseNo string, n int) []*law.Precedent {
	return c.st.Graph.PrecedentsCitingCase(caseNo, n)
}

// ArticleCitedBy counts the precedents that cite an article (canonical id).
func (c *Corpus) ArticleCitedBy(articleID string) int { return c.st.Graph.ArticleCitedBy(articleID) }

// CaseCitedBy counts the precedents that cite a case.
func (c *Corpus) CaseCitedBy(caseNo string) int { return c.st.Graph.CitedBy(caseNo) }

// CoCited lists at most n articles most often cited together with an article (canonical id),
// highest count first, each resolved against the corpus; n ≤ 0 means all.
func (c *Corpus) CoCited(articleID string, n int) []Article {
	var out []Article
	for _, co := range c.st.Graph.CoCited(articleID, n) {
		a := c.Article(co.ArticleID)
		a.Count = co.Count
		out = append(out, a)
	}
	return out
}

// SuggestionCount is how many ids a NotFoundError proposes at most.
const SuggestionCount = 5

// NotFoundError says an article or a precedent is not in the corpus, with the nearest ids that
// are, or else a hint.
type NotFoundError struct {
	Kind        string   // "article" or "precedent"
	ID          string   // as asked
	Suggestions []string // nearest ids of the corpus, best first
	Hint        string   // what ids look like, or why a cited decision is missing
}

func (e *NotFoundError) Error() string {
	if len(e.Suggestions) > 0 {
		return fmt.Sprintf("no %s %q in the corpus; did you mean: %s?", e.Kind, e.ID, strings.Join(e.Suggestions, ", "))
	}
	return fmt.Sprintf("no %s %q in the corpus (%s)", e.Kind, e.ID, e.Hint)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
