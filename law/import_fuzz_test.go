package law

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// addSeeds feeds the fuzzer the fixtures and, when the shared corpus is present, the upstream
// samples matching glob under raw/.
func addSeeds(f *testing.F, fixtures []string, rawGlob string) {
	for _, rel := range fixtures {
		if src, err := os.ReadFile(filepath.Join("testdata", "import", rel)); err == nil {
			f.Add(src)
		}
	}
	dir := os.Getenv(DataEnv)
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "data")
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "raw", rawGlob))
	for _, p := range paths[:min(len(paths), 5)] {
		if src, err := os.ReadFile(p); err == nil {
			// The head (front matter and the first articles or sections) is enough; whole
			// files make every new input slow to minimise.
			f.Add(src[:min(len(src), 2048)])
		}
	}
}

var fuzzArticleRe = regexp.MustCompile(`^제\d+조(의\d+)*$`)

// tidy reports whether every line is trimmed and non-blank, as the corpus text fields are.
func tidy(s string) bool {
	if s == "" {
		return true
	}
	for _, l := range strings.Split(s, "\n") {
		if l == "" || l != strings.TrimSpace(l) {
			return false
		}
	}
	return true
}

func FuzzParseLawMarkdown(f *testing.F) {
	addSeeds(f, []string{"kr/시험법/법률.md", "kr/근로시험법/법률(법률).md", "kr/깨진법/법률.md"}, "legalize-kr/*.md")
	f.Add([]byte("---\n제목: 민법\n---\n# 제1편 총칙\n##### 제1조 (법원)\n**①** 민사에 관하여\n  1\\. 하나\n## 부칙\n"))
	f.Add([]byte("---\n---\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		lf, err := ParseLawMarkdown(src)
		if err != nil {
			return
		}
		if strings.TrimSpace(lf.Title) == "" || lf.Title != strings.TrimSpace(lf.Title) {
			t.Fatalf("title %q", lf.Title)
		}
		for _, s := range lf.Statutes {
			if s.Law != lf.Title || !fuzzArticleRe.MatchString(s.Article) {
				t.Fatalf("bad id %q", s.ID())
			}
			if s.Text == "" || !tidy(s.Text) {
				t.Fatalf("%s: text %q not tidy", s.ID(), s.Text)
			}
			if s.Chapter != "" && slices.Contains(strings.Split(s.Chapter, " > "), "") {
				t.Fatalf("%s: chapter %q has an empty level", s.ID(), s.Chapter)
			}
			if err := s.Validate(); err != nil {
				t.Fatalf("%s: %v", s.ID(), err)
			}
		}
	})
}

func FuzzParsePrecedentMarkdown(f *testing.F) {
	addSeeds(f, []string{"precedent-kr/민사/대법원/2099다1.md", "precedent-kr/민사/하급심/2099가합2.md"}, "precedent-kr/*/*/*.md")
	f.Add([]byte("---\n사건번호: 2016다235411\n---\n## 판례내용\n【주    문】\n  상고를 기각한다.\n【이    유】\n"))
	f.Add([]byte("---\n사건번호: x\n선고일자: 2018-03-27\n---\n## 참조판례\n2000다1 2000다1, 99므2\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		// The citation parser has its own fuzz test; nil keeps this one about the importer.
		p, err := ParsePrecedentMarkdown(src, nil)
		if err != nil {
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatal(err)
		}
		if utf8.ValidString(p.Disposition) && utf8.RuneCountInString(p.Disposition) > DispositionMax {
			t.Fatalf("disposition of %d characters", utf8.RuneCountInString(p.Disposition))
		}
		for name, s := range map[string]string{"holding": p.Holding, "summary": p.Summary,
			"cited_statutes_raw": p.CitedStatutesRaw, "cited_cases_raw": p.CitedCasesRaw} {
			if !tidy(s) {
				t.Fatalf("%s %q not tidy", name, s)
			}
		}
		if strings.ContainsAny(p.Holding+p.Summary, "［］") {
			t.Fatalf("fullwidth bracket left in holding/summary")
		}
		seen := map[string]bool{}
		for _, c := range p.CitedCases {
			if seen[c] || !strings.Contains(p.CitedCasesRaw, c) {
				t.Fatalf("cited case %q duplicated or not in %q", c, p.CitedCasesRaw)
			}
			seen[c] = true
		}
		if p.CitedCases == nil || p.CitedStatutes == nil {
			t.Fatal("nil slice would be written as null, the corpus writes []")
		}
	})
}
