package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/lawbot-kr/lawbot/evaluation"
	"github.com/lawbot-kr/lawbot/law"
)

// printAgreement prints how often the parser agrees with the corpus's cited_statutes, and the
// first show disagreements.
func printAgreement(dataDir string, parser *law.CitationParser, catalog *law.Catalog, mode law.Mode, show int, w io.Writer) error {
	a, err := evaluation.CitationAgreement(context.Background(), dataDir, parser, catalog, mode)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "precedents compared: %d (참조조문 citing a law in statutes.jsonl)\nexact set match: %d (%.4f)\n",
		a.Compared, a.Exact, a.Rate())
	for i, d := range a.Samples {
		if i >= show {
			break
		}
		fmt.Fprintf(w, "\n%s\n  raw:   %s\n  ours only:   %v\n  theirs only: %v\n", d.CaseNo, strings.ReplaceAll(d.Raw, "\n", " "), d.OnlyOurs(), d.OnlyTheirs())
	}
	return nil
}
