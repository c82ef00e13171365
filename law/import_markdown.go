package law

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// This file holds what the two markdown importers share (front matter, line handling) and the
// directory walker that turns a checkout of legalize-kr and/or precedent-kr into corpus records.

// ErrNoFrontMatter means a file does not start with a "---" YAML block.
var ErrNoFrontMatter = errors.New("no YAML front matter")

// splitFrontMatter separates the leading "---\n…\n---" block from the markdown body.
func splitFrontMatter(src []byte) (front, body []byte, err error) {
	src = bytes.TrimPrefix(src, []byte("\ufeff")) // a BOM from an editor must not hide the block
	first, rest, ok := bytes.Cut(src, []byte("\n"))
	if !ok || string(bytes.TrimRight(first, " \t\r")) != "---" {
		return nil, nil, ErrNoFrontMatter
	}
	for off := 0; off <= len(rest); {
		line, _, _ := bytes.Cut(rest[off:], []byte("\n"))
		if string(bytes.TrimRight(line, " \t\r")) == "---" {
			end := off + len(line)
			if end < len(rest) {
				end++ // the newline after the closing fence
			}
			return rest[:off], rest[end:], nil
		}
		if off+len(line) >= len(rest) {
			break
		}
		off += len(line) + 1
	}
	return nil, nil, fmt.Errorf("%w: closing --- missing", ErrNoFrontMatter)
}

// decodeFrontMatter decodes the YAML block into out. Values are read as their literal text, so
// an unquoted 법령MST (an integer) or 선고일자 (a timestamp) arrives exactly as written.
func decodeFrontMatter(src []byte, out any) (body []byte, err error) {
	front, body, err := splitFrontMatter(src)
	if err != nil {
		return nil, err
	}
	if err := yaml.Unmarshal(front, out); err != nil {
		return nil, fmt.Errorf("front matter: %w", err)
	}
	return body, nil
}

// markdownLines splits a body into lines without their line endings (CRLF files included).
func markdownLines(body []byte) []string {
	lines := strings.Split(string(body), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}

// collapseSpaces turns every run of whitespace into one space and trims the ends.
func collapseSpaces(s string) string { return strings.Join(strings.Fields(s), " ") }

// ImportError is one file the importer could not use: reported as "path: reason" and skipped.
type ImportError struct {
	Path   string
	Reason string
}

func (e *ImportError) Error() string { return e.Path + ": " + e.Reason }

// ImportOptions tunes ImportMarkdown.
type ImportOptions struct {
	// Catalog resolves 참조조문 citations. The imported statutes are added to it before any
	// precedent is parsed, so a caller can pre-load it with an existing corpus. Nil: a new one.
	Catalog *Catalog
	// OnBad receives each unusable file. When nil, the first one aborts the import.
	OnBad func(*ImportError)
	// OnPrecedent receives each precedent as it is parsed, so 120k decisions never sit in
	// memory at once. When nil, precedents are collected into ImportResult.Precedents.
	OnPrecedent func(*Precedent) error
	// SourcePrefix is put before the slash-separated path below dir in each record's source,
	// e.g. "legalize-kr/legalize-kr@874b58594654/".
	SourcePrefix string
}

// ImportResult is what ImportMarkdown found.
type ImportResult struct {
	Statutes   []Statute
	Precedents []Precedent // only when ImportOptions.OnPrecedent is nil
	LawFiles   int         // law files whose articles were kept
	Superseded int         // law files dropped because another file holds the same law
	PrecFiles  int         // precedent files imported
	Bad        int         // files reported to OnBad
	// EmptyArticles lists "<law> <article>" ids dropped because their upstream body is empty.
	EmptyArticles []string
}

// lawFileRe matches legalize-kr law file names: "법률.md", "법률(법률).md", "시행령.md", and
// the flattened "<법령명>-법률.md" of a sample folder.
var lawFileRe = regexp.MustCompile(`(^|-)(법률|시행령|시행규칙|대법원규칙|헌법|대통령령|총리령|부령|국회규칙|헌법재판소규칙|중앙선거관리위원회규칙|감사원규칙)(\([^)]*\))?\.md$`)

// kind of a markdown file found by the walker.
type mdKind int

const (
	mdOther mdKind = iota
	mdLaw
	mdPrecedent
)

// classify decides from the path alone whether a file is a law, a precedent or neither, so a
// README or CLAUDE.md in a checkout is ignored instead of reported as malformed.
func classify(rel string) mdKind {
	if !strings.HasSuffix(rel, ".md") {
		return mdOther
	}
	parts := strings.Split(filepath.ToSlash(rel), "/")
	name := parts[len(parts)-1]
	// precedent-kr: {사건종류}/{대법원|하급심|미분류}/{사건번호}.md
	if len(parts) >= 3 {
		switch parts[len(parts)-2] {
		case "대법원", "하급심", "미분류":
			return mdPrecedent
		}
	}
	if lawFileRe.MatchString(name) {
		return mdLaw
	}
	return mdOther
}

// markdownFiles lists the law and precedent files under dir (relative paths), skipping hidden
// folders (.git, .github) and any file that is neither.
func markdownFiles(dir string) (laws, precedents []string, err error) {
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != dir && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		switch classify(rel) {
		case mdLaw:
			laws = append(laws, rel)
		case mdPrecedent:
			precedents = append(precedents, rel)
		}
		return nil
	})
	return laws, precedents, err
}

// ImportMarkdown reads every law and precedent file under dir: a legalize-kr checkout, a
// precedent-kr checkout, or a folder holding both. Unusable files go to opt.OnBad and are
// skipped; only I/O errors on dir itself or an error from opt.OnPrecedent stop the import.
func ImportMarkdown(dir string, opt ImportOptions) (*ImportResult, error) {
	lawPaths, precPaths, err := markdownFiles(dir)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", dir, err)
	}

	res := &ImportResult{}
	bad := func(rel string, err error) error {
		res.Bad++
		ie := &ImportError{Path: filepath.Join(dir, rel), Reason: err.Error()}
		if opt.OnBad == nil {
			return ie
		}
		opt.OnBad(ie)
		return nil
	}

	// Laws first: the precedents' citations resolve against them.
	laws := newLawCollector(opt.SourcePrefix)
	for _, rel := range lawPaths {
		src, err := os.ReadFile(filepath.Join(dir, rel))
		if err == nil {
			err = laws.add(rel, src)
		}
		if err != nil {
			if err := bad(rel, err); err != nil {
				return res, err
			}
		}
	}
	catalog := opt.Catalog
	if catalog == nil {
		catalog = NewCatalog(nil)
	}
	laws.finish(res, catalog)

	cite := NewCitationParser(catalog)
	for _, rel := range precPaths {
		src, err := os.ReadFile(filepath.Join(dir, rel))
		var p Precedent
		if err == nil {
			p, err = ParsePrecedentMarkdown(src, cite)
		}
		if err != nil {
			if err := bad(rel, err); err != nil {
				return res, err
			}
			continue
		}
		p.Source = opt.SourcePrefix + filepath.ToSlash(rel)
		res.PrecFiles++
		if opt.OnPrecedent == nil {
			res.Precedents = append(res.Precedents, p)
		} else if err := opt.OnPrecedent(&p); err != nil {
			return res, fmt.Errorf("import %s: %w", filepath.Join(dir, rel), err)
		}
	}
	return res, nil
}

// lawCollector gathers law files, one per law title (the preferred one when a law has two).
type lawCollector struct {
	prefix  string
	byTitle map[string]*LawFile
	order   []string
	dropped int
}

func newLawCollector(prefix string) *lawCollector {
	return &lawCollector{prefix: prefix, byTitle: map[string]*LawFile{}}
}

// add parses one law file found at rel.
func (c *lawCollector) add(rel string, src []byte) error {
	lf, err := ParseLawMarkdown(src)
	if err != nil {
		return err
	}
	source := c.prefix + filepath.ToSlash(rel)
	for i := range lf.Statutes {
		lf.Statutes[i].Source = source
	}
	if prev, ok := c.byTitle[lf.Title]; !ok {
		c.byTitle[lf.Title] = &lf
		c.order = append(c.order, lf.Title)
	} else {
		c.dropped++
		if lf.preferredOver(prev) {
			*prev = lf
		}
	}
	return nil
}

// finish puts the collected laws' articles into res, in the order the laws were met, and adds
// them to catalog.
func (c *lawCollector) finish(res *ImportResult, catalog *Catalog) {
	res.Superseded += c.dropped
	for _, title := range c.order {
		lf := c.byTitle[title]
		res.LawFiles++
		res.Statutes = append(res.Statutes, lf.Statutes...)
		for _, a := range lf.EmptyArticles {
			res.EmptyArticles = append(res.EmptyArticles, ArticleID(lf.Title, a))
		}
	}
	for i := range res.Statutes {
		catalog.Add(res.Statutes[i].Law, res.Statutes[i].Article)
	}
}

// preferredOver decides between two files holding the same law (e.g. kr/근로기준법/법률.md, the
// act repealed in 1997, and 법률(법률).md, the current one): the one in force, then the one with
// more articles, then the newer promulgation — the rule statutes.jsonl was built with.
func (lf *LawFile) preferredOver(other *LawFile) bool {
	if a, b := lf.inForce(), other.inForce(); a != b {
		return a
	}
	if len(lf.Statutes) != len(other.Statutes) {
		return len(lf.Statutes) > len(other.Statutes)
	}
	return lf.PromulgationDate > other.PromulgationDate
}

func (lf *LawFile) inForce() bool { return lf.Status == "" || lf.Status == "시행" }

// truncateRunes cuts s to at most n characters without splitting a UTF-8 sequence.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for k := range s {
		if i == n {
			return s[:k]
		}
		i++
	}
	return s
}
