package law

import (
	"errors"
	"regexp"
	"strings"
)

// precedentFront is the precedent-kr front matter.
type precedentFront struct {
	ID         string `yaml:"판례일련번호"`
	CaseNo     string `yaml:"사건번호"`
	Title      string `yaml:"사건명"`
	Court      string `yaml:"법원명"`
	CourtLevel string `yaml:"법원등급"`
	CaseType   string `yaml:"사건종류"`
	Date       string `yaml:"선고일자"`
}

// The "## …" sections of a precedent-kr file, in the order the renderer writes them; any
// may be missing (e.g. no 판결요지).
const (
	secHolding  = "판시사항"
	secSummary  = "판결요지"
	secStatutes = "참조조문"
	secCases    = "참조판례"
	secFullText = "판례내용"
)

// DispositionMax caps the 주문 kept in Precedent.Disposition (in characters), as in the corpus.
const DispositionMax = 300

var (
	// A case number inside 참조판례: year (2 or 4 digits, 4290 for the Dangi era), the case
	// kind (다, 다카, 민상, 헌바, …), the serial. The leading group stops "공2003상, 691"-style
	// reporter citations and longer digit runs from matching part-way.
	caseNoRe = regexp.MustCompile(`(^|[^0-9])(\d{2,4}[가-힣]{1,3}\d+)`)
	// "【주    문】" and "【이    유】" with any inner spacing.
	bracketHeadRe = regexp.MustCompile(`^【([^】]*)】`)
	dateDigitsRe  = regexp.MustCompile(`^(\d{4})[.\-/ ]?(\d{2})[.\-/ ]?(\d{2})\.?$`)
	fullwidthNum  = strings.NewReplacer("［", "[", "］", "]")
)

// ParsePrecedentMarkdown reads one precedent-kr decision. cite turns the 참조조문 into
// canonical article ids; with a nil parser CitedStatutes stays empty. The full text (판례내용)
// is not kept, only its 주문 as Disposition.
func ParsePrecedentMarkdown(src []byte, cite *CitationParser) (Precedent, error) {
	var fm precedentFront
	body, err := decodeFrontMatter(src, &fm)
	if err != nil {
		return Precedent{}, err
	}
	p := Precedent{
		// Trimmed: two upstream files quote their 사건번호 with a trailing space
		// ('2019다249589 '), which the shared corpus kept; a case number is an id.
		CaseNo:      strings.TrimSpace(fm.CaseNo),
		Court:       strings.TrimSpace(fm.Court),
		CourtLevel:  strings.TrimSpace(fm.CourtLevel),
		CaseType:    strings.TrimSpace(fm.CaseType),
		Date:        isoDate(fm.Date),
		Title:       strings.TrimSpace(fm.Title),
		PrecedentID: strings.TrimSpace(fm.ID),
	}
	if p.CaseNo == "" {
		return Precedent{}, errors.New("front matter has no 사건번호")
	}
	secs := precedentSections(body)
	p.Holding = normaliseProse(secs[secHolding])
	p.Summary = normaliseProse(secs[secSummary])
	p.CitedStatutesRaw = tidyLines(secs[secStatutes])
	p.CitedCasesRaw = tidyLines(secs[secCases])
	p.Disposition = disposition(secs[secFullText])
	p.CitedCases = citedCaseNumbers(p.CitedCasesRaw)
	p.CitedStatutes = []string{}
	if cite != nil && p.CitedStatutesRaw != "" {
		// ParseReference, not Parse: a 참조조문 list has its own grammar ("[1]" groups, "/"
		// separators, a bare 제N조 inheriting the law before it). Its result has no duplicates.
		p.CitedStatutes = append(p.CitedStatutes, IDs(cite.ParseReference(p.CitedStatutesRaw))...)
	}
	return p, nil
}

// precedentSections maps each known "## 제목" section to its text, trimmed. Other "##" lines
// are content: the full text may quote anything.
func precedentSections(body []byte) map[string]string {
	secs := map[string]string{}
	var name string
	var buf []string
	end := func() {
		if name != "" {
			if _, dup := secs[name]; !dup { // a repeated heading inside 판례내용 is text, not a section
				secs[name] = strings.TrimSpace(strings.Join(buf, "\n"))
			}
		}
		buf = buf[:0]
	}
	for _, line := range markdownLines(body) {
		if h, ok := strings.CutPrefix(line, "## "); ok && name != secFullText {
			switch h = strings.TrimSpace(h); h {
			case secHolding, secSummary, secStatutes, secCases, secFullText:
				end()
				name = h
				continue
			}
		}
		if name != "" {
			buf = append(buf, line)
		}
	}
	end()
	return secs
}

// normaliseProse is the corpus form of 판시사항 and 판결요지: tidy lines, and fullwidth ［1］
// markers made ASCII so "[1]" group markers read the same in every decision.
func normaliseProse(s string) string { return tidyLines(fullwidthNum.Replace(s)) }

// tidyLines trims each line and collapses its inner whitespace, and drops blank lines: older
// decisions wrap 참조조문 and 참조판례 with indented continuation lines ("제160조, \n        제422조").
func tidyLines(s string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if line = collapseSpaces(line); line != "" {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// disposition extracts the 【주 문】 part of the full text, normalised like prose and capped.
func disposition(full string) string {
	var out []string
	in := false
	for _, line := range strings.Split(full, "\n") {
		if m := bracketHeadRe.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			if in {
				break // 【이 유】 or the next heading ends the 주문
			}
			if strings.Join(strings.Fields(m[1]), "") != "주문" {
				continue
			}
			in = true
			line = strings.TrimSpace(line)[len(m[0]):]
		}
		if !in {
			continue
		}
		if line = collapseSpaces(line); line != "" {
			out = append(out, line)
		}
	}
	return truncateRunes(strings.Join(out, "\n"), DispositionMax)
}

// citedCaseNumbers extracts the case numbers of a 참조판례 string, deduplicated, in order.
func citedCaseNumbers(raw string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, m := range caseNoRe.FindAllStringSubmatch(raw, -1) {
		if no := m[2]; !seen[no] {
			seen[no] = true
			out = append(out, no)
		}
	}
	return out
}

// isoDate writes 선고일자 as YYYY-MM-DD whether upstream gave "2018-03-27" or "20180327".
func isoDate(s string) string {
	s = strings.TrimSpace(s)
	if m := dateDigitsRe.FindStringSubmatch(s); m != nil {
		return m[1] + "-" + m[2] + "-" + m[3]
	}
	return s
}
