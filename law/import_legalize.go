package law

import (
	"errors"
	"regexp"
	"strings"
)

// LawFile is one legalize-kr law file (kr/{법령명}/{법률|시행령|…}.md) read into articles.
type LawFile struct {
	Title            string // 제목
	Status           string // 상태: "시행" for a law in force
	PromulgationDate string // 공포일자, YYYY-MM-DD
	Statutes         []Statute
	// EmptyArticles are article numbers dropped because their upstream body is empty
	// (e.g. 주택임대차보호법 시행령 제2조의2); statutes.jsonl drops them too.
	EmptyArticles []string
}

// lawFront is the part of the legalize-kr front matter the corpus keeps.
type lawFront struct {
	Title            string `yaml:"제목"`
	MST              string `yaml:"법령MST"`
	LawID            string `yaml:"법령ID"`
	LawType          string `yaml:"법령구분"`
	PromulgationDate string `yaml:"공포일자"`
	EffectiveDate    string `yaml:"시행일자"`
	Status           string `yaml:"상태"`
	URL              string `yaml:"출처"`
}

var (
	// "##### 제3조의2 (보증금의 회수)"; the caption is absent for deleted and some old articles.
	articleHeadRe = regexp.MustCompile(`^#####\s+(제\d+조(?:의\d+)*)\s*(?:\((.*)\))?\s*$`)
	// 편/장/절/관 headings, e.g. "## 제6장의2 직장 내 괴롭힘의 금지". The level is read from the
	// word, not from the number of #s, because older renderings put 편 at "#" and newer at "##".
	structureRe = regexp.MustCompile(`^#{1,4}\s+(제\d+(?:의\d+)?(편|장|절|관)(?:\s.*)?)$`)
	// A trailing amendment note on a heading ("<개정 2010.1.1>"); chapter paths never carry it.
	headingTagRe = regexp.MustCompile(`\s*<[^<>]*>\s*$`)
	// "**①**" or "**1의2**" at the start of a 항.
	boldNumRe = regexp.MustCompile(`^\*\*([^*]+)\*\*\s?`)
	// "1\." (호) and "가\." (목) markers, escaped so markdown does not read them as a list.
	escapedItemRe = regexp.MustCompile(`^(\d+(?:의\d+)?|[가-힣](?:의\d+)?)\\\.`)
)

// structureRank orders the heading kinds: a 장 heading ends the current 장, 절 and 관.
var structureRank = map[string]int{"편": 0, "장": 1, "절": 2, "관": 3}

// ParseLawMarkdown reads one legalize-kr law file: YAML front matter, "#"–"####" 편/장/절/관
// headings, "##### 제N조 (제목)" articles, and a "## 부칙" section that ends the articles.
// A law without articles (only 부칙) is not an error; it yields no statutes.
func ParseLawMarkdown(src []byte) (LawFile, error) {
	var fm lawFront
	body, err := decodeFrontMatter(src, &fm)
	if err != nil {
		return LawFile{}, err
	}
	fm.Title = strings.TrimSpace(fm.Title)
	if fm.Title == "" {
		return LawFile{}, errors.New("front matter has no 제목")
	}
	lf := LawFile{Title: fm.Title, Status: strings.TrimSpace(fm.Status), PromulgationDate: fm.PromulgationDate}

	var (
		chapter [4]string // 편, 장, 절, 관
		cur     *Statute
		text    []string
	)
	flush := func() {
		if cur == nil {
			return
		}
		cur.Text = strings.Join(text, "\n")
		if cur.Text == "" {
			lf.EmptyArticles = append(lf.EmptyArticles, cur.Article)
		} else {
			lf.Statutes = append(lf.Statutes, *cur)
		}
		cur, text = nil, nil
	}
	for _, line := range markdownLines(body) {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			if m := articleHeadRe.FindStringSubmatch(trimmed); m != nil {
				flush()
				cur = &Statute{
					Law: fm.Title, Article: m[1], Title: strings.TrimSpace(m[2]),
					Chapter: chapterPath(chapter[:]), LawType: strings.TrimSpace(fm.LawType),
					EffectiveDate: fm.EffectiveDate, PromulgationDate: fm.PromulgationDate,
					LawID: fm.LawID, MST: fm.MST, URL: strings.TrimSpace(fm.URL),
				}
				continue
			}
			if m := structureRe.FindStringSubmatch(trimmed); m != nil {
				flush()
				rank := structureRank[m[2]]
				chapter[rank] = collapseSpaces(headingTagRe.ReplaceAllString(m[1], ""))
				for i := rank + 1; i < len(chapter); i++ {
					chapter[i] = ""
				}
				continue
			}
			if isAddendaHeading(trimmed) {
				break // 부칙 and whatever follows (별표) are not articles
			}
			if strings.HasPrefix(trimmed, "# ") && cur == nil {
				continue // the law's own title
			}
		}
		if cur == nil {
			continue
		}
		if l := articleLine(trimmed); l != "" {
			text = append(text, l)
		}
	}
	flush()
	return lf, nil
}

// isAddendaHeading reports "## 부칙" (and "# 부칙" from hand edits).
func isAddendaHeading(line string) bool {
	h := strings.TrimLeft(line, "#")
	return len(h) < len(line) && len(line)-len(h) <= 4 && strings.TrimSpace(h) == "부칙"
}

// articleLine removes the markdown of one body line: "**①** 임대차는…" → "① 임대차는…",
// "1\. 임차인이…" → "1. 임차인이…". Interior spacing is kept as upstream has it.
func articleLine(line string) string {
	if m := boldNumRe.FindStringSubmatchIndex(line); m != nil {
		line = strings.TrimSpace(strings.TrimSpace(line[m[2]:m[3]]) + " " + strings.TrimSpace(line[m[1]:]))
	}
	return escapedItemRe.ReplaceAllString(line, "$1.")
}

// chapterPath joins the non-empty heading levels with " > ", as in statutes.jsonl.
func chapterPath(levels []string) string {
	var parts []string
	for _, l := range levels {
		if l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, " > ")
}
