package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/state"
)

// lookupFlags are the flags shared by "lawbot statute" and "lawbot precedent".
type lookupFlags struct {
	stateDir string
	asJSON   bool
	limit    int
}

// parseLookup reads one positional id and the flags, which may come before or after it
// (lawbot statute "민법 제618조" --json).
func parseLookup(name, what string, args []string, stderr io.Writer) (string, lookupFlags, error) {
	var lf lookupFlags
	fs := newFlags(name, stderr)
	fs.StringVar(&lf.stateDir, "state", state.DefaultDir, "state directory written by lawbot ingest")
	fs.BoolVar(&lf.asJSON, "json", false, "print JSON")
	fs.IntVar(&lf.limit, "limit", 10, "how many citing precedents and co-cited articles to list")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: lawbot %s %s [--state DIR] [--json] [--limit N]\n", name, what)
		fs.PrintDefaults()
	}
	var positional []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return "", lf, err
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(positional) != 1 {
		fs.Usage()
		return "", lf, errUsage
	}
	return positional[0], lf, nil
}

// precedentRef is a precedent in a list.
type precedentRef struct {
	CaseNo string `json:"case_no"`
	Court  string `json:"court"`
	Date   string `json:"date"`
	Title  string `json:"title"`
}

func refOf(p *law.Precedent) precedentRef {
	return precedentRef{CaseNo: p.CaseNo, Court: p.Court, Date: p.Date, Title: p.Title}
}

func refsOf(ps []*law.Precedent) []precedentRef {
	out := make([]precedentRef, len(ps))
	for i, p := range ps {
		out[i] = refOf(p)
	}
	return out
}

// articleRef is a cited or co-cited article, resolved against the corpus.
type articleRef struct {
	ID       string `json:"id"`
	Title    string `json:"title,omitempty"`
	InCorpus bool   `json:"in_corpus"`
	Count    int    `json:"count,omitempty"` // precedents citing both, for co-citations
}

func resolveArticle(st *state.State, id string) articleRef {
	ref := articleRef{ID: id}
	if a, ok := st.Statute(id); ok {
		ref.Title, ref.InCorpus = a.Title, true
	}
	return ref
}

// statuteView is everything "lawbot statute" shows.
type statuteView struct {
	ID           string         `json:"id"`
	InCorpus     bool           `json:"in_corpus"`
	Statute      *law.Statute   `json:"statute,omitempty"`
	CitedByTotal int            `json:"cited_by_total"`
	CitedBy      []precedentRef `json:"cited_by"`
	CoCited      []articleRef   `json:"co_cited"`
}

func runStatute(args []string, stdout, stderr io.Writer) error {
	id, lf, err := parseLookup("statute", `"<law> 제N조"`, args, stderr)
	if err != nil {
		return err
	}
	st, err := state.Load(lf.stateDir)
	if err != nil {
		return err
	}
	v := statuteView{ID: state.NormalizeArticleID(id)}
	if a, ok := st.Statute(id); ok {
		v.ID, v.InCorpus, v.Statute = a.ID(), true, a
	}
	v.CitedByTotal = st.Graph.ArticleCitedBy(v.ID)
	// An article outside the corpus that precedents cite (a repealed or renumbered one, or a law
	// not collected) still has a citation neighbourhood worth showing.
	if !v.InCorpus && v.CitedByTotal == 0 {
		return notFound("article", id, st.SuggestStatutes(id, 5), `ids look like "민법 제618조"`)
	}
	v.CitedBy = refsOf(st.Graph.PrecedentsCiting(v.ID, lf.limit))
	for _, c := range st.Graph.CoCited(v.ID, lf.limit) {
		ref := resolveArticle(st, c.ArticleID)
		ref.Count = c.Count
		v.CoCited = append(v.CoCited, ref)
	}
	if lf.asJSON {
		return writeJSON(stdout, v)
	}
	return printStatute(stdout, &v)
}

func printStatute(w io.Writer, v *statuteView) error {
	p := &printer{w: w}
	if a := v.Statute; a != nil {
		p.line("%s %s", v.ID, a.Title)
		p.field("law", a.Law+optional(" (%s)", a.LawType))
		p.field("chapter", a.Chapter)
		p.field("effective", a.EffectiveDate)
		p.field("url", a.URL)
		p.line("")
		p.line("%s", a.Text)
	} else {
		p.line("%s (not in corpus; cited by precedents)", v.ID)
	}
	p.line("")
	p.citedBy(v.CitedByTotal, v.CitedBy)
	if len(v.CoCited) > 0 {
		p.line("")
		p.line("Most often cited with it (precedents citing both):")
		for _, c := range v.CoCited {
			p.line("  %s %s %d", pad(c.ID, 24), pad(titleOrMissing(c), 30), c.Count)
		}
	}
	return p.err
}

// caseRef is a case named in 참조판례, resolved against the corpus.
type caseRef struct {
	CaseNo    string        `json:"case_no"` // as cited
	InCorpus  bool          `json:"in_corpus"`
	Precedent *precedentRef `json:"precedent,omitempty"`
}

// precedentView is everything "lawbot precedent" shows.
type precedentView struct {
	Precedent     *law.Precedent `json:"precedent"`
	URL           string         `json:"url,omitempty"`
	CitedArticles []articleRef   `json:"cited_articles"`
	CitedCases    []caseRef      `json:"cited_cases"`
	CitedByTotal  int            `json:"cited_by_total"`
	CitedBy       []precedentRef `json:"cited_by"`
	// SameNumber lists other decisions filed under the same case number (another court).
	SameNumber []precedentRef `json:"same_number,omitempty"`
}

func runPrecedent(args []string, stdout, stderr io.Writer) error {
	caseNo, lf, err := parseLookup("precedent", "<case no>", args, stderr)
	if err != nil {
		return err
	}
	st, err := state.Load(lf.stateDir)
	if err != nil {
		return err
	}
	p, ok := st.Precedent(caseNo)
	if !ok {
		hint := `case numbers look like "2016다235411"`
		if n := st.Graph.CitedBy(caseNo); n > 0 {
			hint = fmt.Sprintf("cited by %s of the corpus, but the decision itself is not collected", plural(n, "precedent"))
		}
		return notFound("precedent", caseNo, st.SuggestPrecedents(caseNo, 5), hint)
	}
	v := precedentView{Precedent: p, URL: p.URL(), CitedByTotal: st.Graph.CitedBy(p.CaseNo),
		CitedBy: refsOf(st.Graph.PrecedentsCitingCase(p.CaseNo, lf.limit))}
	for _, other := range st.DecisionsNumbered(p.CaseNo) {
		if other != p {
			v.SameNumber = append(v.SameNumber, refOf(other))
		}
	}
	for _, id := range p.CitedStatutes {
		v.CitedArticles = append(v.CitedArticles, resolveArticle(st, id))
	}
	for _, c := range p.CitedCases {
		ref := caseRef{CaseNo: c}
		if cp, ok := st.Precedent(c); ok {
			r := refOf(cp)
			ref.InCorpus, ref.Precedent = true, &r
		}
		v.CitedCases = append(v.CitedCases, ref)
	}
	if lf.asJSON {
		return writeJSON(stdout, v)
	}
	return printPrecedent(stdout, &v)
}

func printPrecedent(w io.Writer, v *precedentView) error {
	p := &printer{w: w}
	d := v.Precedent
	p.line("%s  %s  %s", d.CaseNo, d.Court, d.Date)
	p.line("%s", d.Title)
	p.field("case type", d.CaseType+optional(" (%s)", d.CourtLevel))
	p.field("url", v.URL)
	p.section("판시사항 (holding)", d.Holding)
	p.section("판결요지 (summary)", d.Summary)
	p.section("주문 (disposition)", d.Disposition)
	for _, o := range v.SameNumber {
		p.line("")
		p.line("Also decided under this number: %s  %s  %s", o.Court, o.Date, o.Title)
	}

	p.line("")
	p.line("참조조문 (cited articles): %d", len(v.CitedArticles))
	for _, a := range v.CitedArticles {
		p.line("  %s %s", pad(a.ID, 24), titleOrMissing(a))
	}
	p.line("")
	p.line("참조판례 (cited cases): %d", len(v.CitedCases))
	for _, c := range v.CitedCases {
		if c.Precedent == nil {
			p.line("  %s (not in corpus)", pad(c.CaseNo, 14))
			continue
		}
		shown := c.CaseNo
		if c.Precedent.CaseNo != c.CaseNo {
			shown += " → " + c.Precedent.CaseNo
		}
		p.line("  %s [in corpus] %s  %s  %s", pad(shown, 14), c.Precedent.Court, c.Precedent.Date, clip(c.Precedent.Title, 50))
	}
	p.line("")
	p.citedBy(v.CitedByTotal, v.CitedBy)
	return p.err
}

// notFound is the error for an unknown id: the suggestions when there are any, else a hint.
func notFound(what, id string, suggestions []string, hint string) error {
	if len(suggestions) > 0 {
		return fmt.Errorf("no %s %q in the corpus; did you mean: %s?", what, id, strings.Join(suggestions, ", "))
	}
	return fmt.Errorf("no %s %q in the corpus (%s)", what, id, hint)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// printer writes lines and keeps the first error, so the layout code reads straight through.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) line(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format+"\n", args...)
	}
}

func (p *printer) field(name, value string) {
	if value != "" {
		p.line("  %-10s %s", name+":", value)
	}
}

func (p *printer) section(title, body string) {
	if body == "" {
		return
	}
	p.line("")
	p.line("%s", title)
	for _, l := range strings.Split(body, "\n") {
		p.line("  %s", l)
	}
}

func (p *printer) citedBy(total int, refs []precedentRef) {
	if total == 0 {
		p.line("Cited by no precedent in the corpus.")
		return
	}
	note := ""
	if len(refs) < total {
		note = fmt.Sprintf(" (newest %d shown)", len(refs))
	}
	p.line("Cited by %s%s:", plural(total, "precedent"), note)
	for _, r := range refs {
		p.line("  %s %s %s  %s", pad(r.CaseNo, 22), pad(r.Court, 12), r.Date, clip(r.Title, 60))
	}
}

func titleOrMissing(a articleRef) string {
	if !a.InCorpus {
		return "(not in corpus)"
	}
	return a.Title
}

func optional(format, value string) string {
	if value == "" {
		return ""
	}
	return fmt.Sprintf(format, value)
}

// clip shortens long 사건명 (some carry a whole bracketed 요지) for one-line lists.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// pad fills s with spaces to a terminal width of n columns, counting Hangul and other wide
// characters as two, so Korean ids line up.
func pad(s string, n int) string {
	w := 0
	for _, r := range s {
		w++
		if wide(r) {
			w++
		}
	}
	if w >= n {
		return s
	}
	return s + strings.Repeat(" ", n-w)
}

func wide(r rune) bool {
	return unicode.Is(unicode.Hangul, r) || unicode.Is(unicode.Han, r) ||
		(r >= 0x3000 && r <= 0x303F) || (r >= 0xFF00 && r <= 0xFF60)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
