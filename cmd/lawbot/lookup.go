package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/lawbot-kr/lawbot/lookup"
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

func runStatute(args []string, stdout, stderr io.Writer) error {
	id, lf, err := parseLookup("statute", `"<law> 제N조"`, args, stderr)
	if err != nil {
		return err
	}
	st, err := loadResolved(lf.stateDir)
	if err != nil {
		return err
	}
	r, err := lookup.New(st).StatuteReport(id, lf.limit)
	if err != nil {
		return err
	}
	if lf.asJSON {
		return writeJSON(stdout, r)
	}
	return printStatute(stdout, r)
}

func printStatute(w io.Writer, v *lookup.StatuteReport) error {
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

func runPrecedent(args []string, stdout, stderr io.Writer) error {
	caseNo, lf, err := parseLookup("precedent", "<case no>", args, stderr)
	if err != nil {
		return err
	}
	st, err := loadResolved(lf.stateDir)
	if err != nil {
		return err
	}
	r, err := lookup.New(st).PrecedentReport(caseNo, lf.limit)
	if err != nil {
		return err
	}
	if lf.asJSON {
		return writeJSON(stdout, r)
	}
	return printPrecedent(stdout, r)
}

func printPrecedent(w io.Writer, v *lookup.PrecedentReport) error {
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

func (p *printer) citedBy(total int, refs []lookup.PrecedentRef) {
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

func titleOrMissing(a lookup.Article) string {
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
