package evaluation

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/lawbot-kr/lawbot/advice"
)

// CoverageFile is the coverage check's questions (written for it, in the project): people's
// questions about laws outside the 66 of statutes.jsonl, each with the law a lawyer would open
// first.
const CoverageFile = "evaluation/testdata/coverage.dev.jsonl"

// CoverageCase is one coverage question.
type CoverageCase struct {
	Query string `json:"query"`
	Law   string `json:"law"`
}

func (c *CoverageCase) Validate() error {
	if strings.TrimSpace(c.Query) == "" || strings.TrimSpace(c.Law) == "" {
		return fmt.Errorf("needs query and law")
	}
	return nil
}

// CoverageReport says how often the expected law is the first, or among the first three, laws
// of the ranked articles (a law's decrees, "<law> 시행령", count as the law), and how many of the
// expected laws the statute corpus has at all.
type CoverageReport struct {
	Questions int      `json:"questions"`
	InCorpus  int      `json:"laws_in_corpus"`
	Hit1      float64  `json:"law_hit_at_1"`
	Hit3      float64  `json:"law_hit_at_3"`
	Misses    []string `json:"misses"` // "question → the first three laws"
}

// sameLaw: a law, or one of its decrees and rules ("주택임대차보호법 시행령" for 주택임대차보호법).
func sameLaw(got, want string) bool {
	return got == want || strings.HasPrefix(got, want+" ")
}

// Coverage asks each question through p and scores the laws of its ranked articles.
func Coverage(ctx context.Context, p *advice.Pipeline, cases []CoverageCase) (CoverageReport, error) {
	rep := CoverageReport{Misses: []string{}}
	laws := map[string]bool{}
	for i := range p.Retriever.State.Statutes {
		laws[p.Retriever.State.Statutes[i].Law] = true
	}
	held := *p
	held.Sizes.Statutes = max(held.Sizes.Statutes, 30)
	for _, c := range cases {
		res, err := held.Advise(ctx, c.Query, nil)
		if err != nil {
			return rep, fmt.Errorf("%q: %w", c.Query, err)
		}
		rep.Questions++
		if laws[c.Law] {
			rep.InCorpus++
		}
		var top []string
		for _, s := range res.Statutes {
			if len(top) == 3 {
				break
			}
			if l := s.Statute.Law; !slices.Contains(top, l) {
				top = append(top, l)
			}
		}
		hit := -1
		for i, l := range top {
			if sameLaw(l, c.Law) {
				hit = i
				break
			}
		}
		switch {
		case hit == 0:
			rep.Hit1++
			rep.Hit3++
		case hit > 0:
			rep.Hit3++
		default:
			rep.Misses = append(rep.Misses, fmt.Sprintf("%s → %s", c.Query, strings.Join(top, ", ")))
		}
	}
	if rep.Questions > 0 {
		rep.Hit1 /= float64(rep.Questions)
		rep.Hit3 /= float64(rep.Questions)
	}
	return rep, nil
}
