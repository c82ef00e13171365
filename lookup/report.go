package lookup

import (
	"fmt"

	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/state"
)

// PrecedentRef is a precedent in a list.
type PrecedentRef struct {
	CaseNo string `json:"case_no"`
	Court  string `json:"court"`
	Date   string `json:"date"`
	Title  string `json:"title"`
}

// RefOf is the list entry of a precedent.
func RefOf(p *law.Precedent) PrecedentRef {
	return PrecedentRef{CaseNo: p.CaseNo, Court: p.Court, Date: p.Date, Title: p.Title}
}

func refsOf(ps []*law.Precedent) []PrecedentRef {
	out := make([]PrecedentRef, len(ps))
	for i, p := range ps {
		out[i] = RefOf(p)
	}
	return out
}

// StatuteReport is everything known of one article: what "lawbot statute" shows (its JSON with
// --json).
type StatuteReport struct {
	ID       string       `json:"id"` // canonical
	InCorpus bool         `json:"in_corpus"`
	Statute  *law.Statute `json:"statute,omitempty"`
	// CitedByTotal counts the precedents citing it; CitedBy lists the newest of them.
	CitedByTotal int            `json:"cited_by_total"`
	CitedBy      []PrecedentRef `json:"cited_by"`
	// CoCited are the articles most often cited with it.
	CoCited []Article `json:"co_cited"`
}

// StatuteReport reports on an article, listing at most n citing precedents and n co-cited
// articles. An article outside the corpus that precedents cite (a repealed or renumbered one,
// or a law not collected) still has a citation neighbourhood worth showing; one that nothing
// cites either is a *NotFoundError with suggestions.
func (c *Corpus) StatuteReport(id string, n int) (*StatuteReport, error) {
	r := &StatuteReport{ID: state.NormalizeArticleID(id)}
	if a, ok := c.st.Statute(id); ok {
		r.ID, r.InCorpus, r.Statute = a.ID(), true, a
	}
	r.CitedByTotal = c.ArticleCitedBy(r.ID)
	if !r.InCorpus && r.CitedByTotal == 0 {
		return nil, &NotFoundError{Kind: "article", ID: id, Suggestions: c.st.SuggestStatutes(id, SuggestionCount),
			Hint: `ids look like "민법 제618조"`}
	}
	r.CitedBy = refsOf(c.PrecedentsCiting(r.ID, n))
	r.CoCited = c.CoCited(r.ID, n)
	return r, nil
}

// CaseRef is a case named in 참조판례, resolved against the corpus.
type CaseRef struct {
	CaseNo    string        `json:"case_no"` // as cited
	InCorpus  bool          `json:"in_corpus"`
	Precedent *PrecedentRef `json:"precedent,omitempty"`
}

// PrecedentReport is everything known of one decision: what "lawbot precedent" shows (its JSON
// with --json).
type PrecedentReport struct {
	Precedent     *law.Precedent `json:"precedent"`
	URL           string         `json:"url,omitempty"`
	CitedArticles []Article      `json:"cited_articles"`
	CitedCases    []CaseRef      `json:"cited_cases"`
	// CitedByTotal counts the precedents citing it; CitedBy lists the newest of them.
	CitedByTotal int            `json:"cited_by_total"`
	CitedBy      []PrecedentRef `json:"cited_by"`
	// SameNumber lists other decisions filed under the same case number (another court).
	SameNumber []PrecedentRef `json:"same_number,omitempty"`
}

// PrecedentReport reports on a decision, listing at most n precedents citing it. A case number
// not in the corpus is a *NotFoundError: with the nearest numbers, or, for a case the corpus
// only cites, how often it is cited.
func (c *Corpus) PrecedentReport(caseNo string, n int) (*PrecedentReport, error) {
	p, ok := c.st.Precedent(caseNo)
	if !ok {
		hint := `case numbers look like "2016다235411"`
		if k := c.CaseCitedBy(caseNo); k > 0 {
			hint = fmt.Sprintf("cited by %s of the corpus, but the decision itself is not collected", plural(k, "precedent"))
		}
		return nil, &NotFoundError{Kind: "precedent", ID: caseNo, Suggestions: c.st.SuggestPrecedents(caseNo, SuggestionCount), Hint: hint}
	}
	r := &PrecedentReport{Precedent: p, URL: p.URL(), CitedByTotal: c.CaseCitedBy(p.CaseNo),
		CitedBy: refsOf(c.PrecedentsCitingCase(p.CaseNo, n))}
	for _, other := range c.st.DecisionsNumbered(p.CaseNo) {
		if other != p {
			r.SameNumber = append(r.SameNumber, RefOf(other))
		}
	}
	if len(p.CitedStatutes) > 0 {
		r.CitedArticles = c.Articles(p.CitedStatutes)
	}
	for _, cited := range p.CitedCases {
		ref := CaseRef{CaseNo: cited}
		if cp, ok := c.st.Precedent(cited); ok {
			pr := RefOf(cp)
			ref.InCorpus, ref.Precedent = true, &pr
		}
		r.CitedCases = append(r.CitedCases, ref)
	}
	return r, nil
}
