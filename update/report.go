package update

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/lawbot-kr/lawbot/internal/atomicfile"
	"github.com/lawbot-kr/lawbot/state"
)

// Report renders a version's manifest and the steps of this run as markdown.
func Report(v *state.Version, steps []StepResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# LawBot update: version %s\n\n", v.ID)
	parent := v.Parent
	if parent == "" {
		parent = "none (first version)"
	}
	fmt.Fprintf(&b, "- parent: %s\n- corpus fingerprint: %s\n- corpus: %d statutes, %d precedents, %d Q&A\n",
		parent, short(v.Fingerprint, 16), v.Corpus.Statutes, v.Corpus.Precedents, v.Corpus.QA)
	if v.PublishedAt != nil {
		fmt.Fprintf(&b, "- published: %s\n", v.PublishedAt.Format(time.RFC3339))
	} else {
		b.WriteString("- published: no\n")
	}
	if c := v.Changes; c != nil {
		b.WriteString("\n## Changes since the parent\n\n")
		fmt.Fprintf(&b, "| | added | amended/updated | deleted |\n|---|---:|---:|---:|\n")
		fmt.Fprintf(&b, "| laws | %d | %d | %d |\n", len(c.LawsAdded), len(c.LawsAmended), len(c.LawsDeleted))
		fmt.Fprintf(&b, "| articles | %d | %d | %d |\n", c.ArticlesAdded, c.ArticlesAmended, c.ArticlesDeleted)
		fmt.Fprintf(&b, "| precedents | %d | %d | %d |\n", c.PrecedentsAdded, c.PrecedentsUpdated, c.PrecedentsRemoved)
		fmt.Fprintf(&b, "| Q&A | %d | %d | %d |\n", c.QAAdded, c.QAUpdated, c.QARemoved)
		for _, l := range []struct {
			what  string
			names []string
		}{{"laws added", c.LawsAdded}, {"laws amended", c.LawsAmended}, {"laws deleted", c.LawsDeleted}} {
			if len(l.names) > 0 {
				fmt.Fprintf(&b, "\n%s: %s\n", l.what, clipList(l.names, 20))
			}
		}
	}
	if len(v.Rebuilt) > 0 {
		fmt.Fprintf(&b, "\n## Rebuilt\n\n%s\n", summarizeFiles(v.Rebuilt))
	}
	if len(v.Models) > 0 {
		b.WriteString("\n## Models\n\n")
		names := make([]string, 0, len(v.Models))
		for n := range v.Models {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(&b, "- %s sha256:%s\n", n, short(v.Models[n], 16))
		}
	}
	if len(v.Eval) > 0 {
		b.WriteString("\n## Evaluation\n\n| metric | current | new | change |\n|---|---:|---:|---:|\n")
		names := make([]string, 0, len(v.Eval))
		for n := range v.Eval {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			cur, ok := v.EvalCurrent[n]
			if ok {
				fmt.Fprintf(&b, "| %s | %.4f | %.4f | %+.4f |\n", n, cur, v.Eval[n], v.Eval[n]-cur)
			} else {
				fmt.Fprintf(&b, "| %s | – | %.4f | |\n", n, v.Eval[n])
			}
		}
	}
	if g := v.Gate; g != nil {
		verdict := "passed"
		if !g.Passed {
			verdict = "FAILED: " + Failures(g)
		}
		fmt.Fprintf(&b, "\n## Gate (%s)\n\n%s\n", g.Config, verdict)
	}
	if len(steps) > 0 {
		b.WriteString("\n## This run\n\n")
		for _, s := range steps {
			state := s.Elapsed.Round(100 * time.Millisecond).String()
			if s.Skipped {
				state = "already done"
			}
			fmt.Fprintf(&b, "- %s (%s): %s\n", s.Step, state, s.Summary)
		}
	}
	return b.String()
}

func (r *run) writeReport() {
	md := Report(r.v, r.res.Steps)
	for _, p := range []string{filepath.Join(r.vdir, ReportFile), filepath.Join(r.root.Dir, ReportFile)} {
		atomicfile.WriteFile(p, []byte(md))
	}
}

func short(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func clipList(l []string, n int) string {
	if len(l) <= n {
		return strings.Join(l, ", ")
	}
	return strings.Join(l[:n], ", ") + fmt.Sprintf(" … and %d more", len(l)-n)
}
