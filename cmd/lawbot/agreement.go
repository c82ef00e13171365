package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/lawbot-kr/lawbot/law"
)

// agreement compares the parser with the reference normaliser that made the corpus's
// cited_statutes, on the laws the statute corpus holds.
type agreement struct {
	Compared, Exact int
	// Disagreements by kind: only ours, only theirs, both differ.
	Samples []disagreement
}

type disagreement struct {
	CaseNo, Raw  string
	Ours, Theirs []string
}

func measureAgreement(dataDir string, parser *law.CitationParser, catalog *law.Catalog, mode law.Mode) (agreement, error) {
	var a agreement
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
				a.Samples = append(a.Samples, disagreement{p.CaseNo, p.CitedStatutesRaw, ours, theirs})
			}
			return nil
		})
		if err != nil {
			return a, err
		}
	}
	return a, nil
}

func printAgreement(dataDir string, parser *law.CitationParser, catalog *law.Catalog, mode law.Mode, show int, w io.Writer) error {
	if dataDir == "" {
		return law.ErrNoCorpus
	}
	a, err := measureAgreement(dataDir, parser, catalog, mode)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "precedents compared: %d (참조조문 citing a law in statutes.jsonl)\nexact set match: %d (%.4f)\n",
		a.Compared, a.Exact, float64(a.Exact)/float64(max(a.Compared, 1)))
	for i, d := range a.Samples {
		if i >= show {
			break
		}
		onlyOurs, onlyTheirs := diff(d.Ours, d.Theirs), diff(d.Theirs, d.Ours)
		fmt.Fprintf(w, "\n%s\n  raw:   %s\n  ours only:   %v\n  theirs only: %v\n", d.CaseNo, strings.ReplaceAll(d.Raw, "\n", " "), onlyOurs, onlyTheirs)
	}
	return nil
}

func diff(a, b []string) []string {
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
