package evaluation

import (
	"context"
	"sort"
	"strings"

	"github.com/lawbot-kr/lawbot/law"
)

// Agreement compares the citation parser with the reference normaliser that made the corpus's
// cited_statutes, on the laws the statute corpus holds.
type Agreement struct {
	// Compared counts the precedents whose 참조조문 cite a law in the catalog; Exact those whose
	// article sets match.
	Compared, Exact int
	// Samples are the disagreements, in corpus order.
	Samples []Disagreement
}

// Rate is the share of compared precedents whose sets match exactly.
func (a Agreement) Rate() float64 { return float64(a.Exact) / float64(max(a.Compared, 1)) }

// Disagreement is one precedent whose parsed articles differ from the corpus's.
type Disagreement struct {
	CaseNo, Raw  string
	Ours, Theirs []string
}

// OnlyOurs lists the articles the parser found and the corpus does not list.
func (d Disagreement) OnlyOurs() []string { return without(d.Ours, d.Theirs) }

// OnlyTheirs lists the articles the corpus lists and the parser did not find.
func (d Disagreement) OnlyTheirs() []string { return without(d.Theirs, d.Ours) }

// CitationAgreement parses every precedent's 참조조문 in dataDir with parser and compares the
// articles of laws in catalog with the precedent's cited_statutes. ctx is checked between
// precedents.
func CitationAgreement(ctx context.Context, dataDir string, parser *law.CitationParser, catalog *law.Catalog, mode law.Mode) (Agreement, error) {
	var a Agreement
	if dataDir == "" {
		return a, law.ErrNoCorpus
	}
	files, err := law.PrecedentFiles(dataDir)
	if err != nil {
		return a, err
	}
	inCorpus := func(ids []string) []string {
		var out []string
		seen := map[string]bool{}
		for _, id := range ids {
			if l, _, ok := law.SplitArticleID(id); ok && catalog.HasLaw(l) && !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
		sort.Strings(out)
		return out
	}
	for _, f := range files {
		err := law.ReadJSONL(f, law.ReadOptions{OnBad: func(*law.LineError) {}}, func(p *law.Precedent) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if strings.TrimSpace(p.CitedStatutesRaw) == "" {
				return nil
			}
			ours := inCorpus(law.IDs(parser.ParseWith(p.CitedStatutesRaw, law.ParseOptions{Mode: mode})))
			theirs := inCorpus(p.CitedStatutes)
			if len(ours) == 0 && len(theirs) == 0 {
				return nil
			}
			a.Compared++
			if strings.Join(ours, "|") == strings.Join(theirs, "|") {
				a.Exact++
			} else {
				a.Samples = append(a.Samples, Disagreement{p.CaseNo, p.CitedStatutesRaw, ours, theirs})
			}
			return nil
		})
		if err != nil {
			return a, err
		}
	}
	return a, nil
}

// without lists the items of a that are not in b.
func without(a, b []string) []string {
	in := map[string]bool{}
	for _, x := range b {
		in[x] = true
	}
	var out []string
	for _, x := range a {
		if !in[x] {
			out = append(out, x)
		}
	}
	return out
}
