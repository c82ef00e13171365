package law

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func readFixture(t *testing.T, rel string) []byte {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", "import", rel))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestParseLawMarkdownFixture(t *testing.T) {
	lf, err := ParseLawMarkdown(readFixture(t, "kr/시험법/법률.md"))
	if err != nil {
		t.Fatal(err)
	}
	base := Statute{Law: "시험법", LawType: "법률", EffectiveDate: "2024-07-03", PromulgationDate: "2024-01-02",
		LawID: "009999", MST: "900001", URL: "https://www.law.go.kr/법령/시험법"}
	with := func(article, title, chapter, text string) Statute {
		s := base
		s.Article, s.Title, s.Chapter, s.Text = article, title, chapter, text
		return s
	}
	want := []Statute{
		// Before any 편 heading: no chapter; the "# 시험법" title line is not one.
		with("제1조", "목적", "", "이 법은 임대차에 관한 시험 규정을 둔다."),
		// The amendment tag on a heading is dropped, 항/호/목 markdown removed, inner spacing kept.
		with("제2조", "정의", "제1편 총칙 > 제1장 통칙",
			"① 이 법에서 사용하는 용어의 뜻은 다음과 같다. <개정 2013.8.13>\n"+
				"1. \"임대인\"이란 주택을 빌려주는 자를 말한다.\n"+
				"1의2. \"임차인\"이란 주택을 빌리는 자를 말한다.\n"+
				"가. 개인\n"+
				"나. 법인  (대통령령으로 정하는 법인에 한정한다)\n"+
				"② 제1항에도 불구하고 따로 정할 수 있다."),
		// A deleted article has no caption.
		with("제3조", "", "제1편 총칙 > 제1장 통칙", "삭제 <2010.1.1>"),
		with("제4조", "임대차의 의의", "제1편 총칙 > 제2장 계약 > 제1절 임대차 > 제1관 총칙",
			"임대차는 당사자 일방이 상대방에게 목적물을 사용, 수익하게 할 것을 약정하고 상대방이 이에 대하여 차임을 지급할 것을 약정함으로써 그 효력이 생긴다."),
		// A new 절 ends the 관 of the previous one.
		with("제5조", "전세의 의의", "제1편 총칙 > 제2장 계약 > 제2절 전세", "전세는 따로 정한다."),
		// A new 편 ends its 장 and 절; a caption may hold parentheses itself.
		with("제6조", "「민법」의 준용 (특례)", "제2편 각칙", "이 편에 규정이 없으면 「민법」을 준용한다."),
	}
	if len(lf.Statutes) != len(want) {
		t.Fatalf("got %d articles %v, want %d", len(lf.Statutes), articles(lf.Statutes), len(want))
	}
	for i := range want {
		if d := fieldDiff(lf.Statutes[i], want[i]); d != "" {
			t.Errorf("%s:\n%s", want[i].Article, d)
		}
	}
	// 제4조의2 has no body upstream; the 부칙's own 제1조 must not become an article.
	if !slices.Equal(lf.EmptyArticles, []string{"제4조의2"}) {
		t.Errorf("EmptyArticles = %v, want [제4조의2]", lf.EmptyArticles)
	}
	if lf.Title != "시험법" || lf.Status != "시행" || lf.PromulgationDate != "2024-01-02" {
		t.Errorf("law = %q %q %q", lf.Title, lf.Status, lf.PromulgationDate)
	}
}

func TestParseLawMarkdownErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      error  // matched with errors.Is when set
		wantText  string // else a substring of the message
	}{
		{"no front matter", "# 깨진법\n\n##### 제1조 (목적)\n\n본문\n", ErrNoFrontMatter, ""},
		{"front matter not closed", "---\n제목: 민법\n\n##### 제1조\n본문\n", ErrNoFrontMatter, ""},
		{"empty file", "", ErrNoFrontMatter, ""},
		{"no title", "---\n법령구분: 법률\n---\n##### 제1조\n본문\n", nil, "제목"},
		{"bad yaml", "---\n제목: [민법\n---\n", nil, "front matter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseLawMarkdown([]byte(tt.src))
			switch {
			case err == nil:
				t.Fatal("no error")
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Errorf("err = %v, want %v", err, tt.want)
			case tt.want == nil && !strings.Contains(err.Error(), tt.wantText):
				t.Errorf("err = %v, want it to mention %q", err, tt.wantText)
			}
		})
	}
}

func TestParseLawMarkdownLines(t *testing.T) {
	front := "---\n제목: 민법\n법령구분: 법률\n---\n"
	tests := []struct {
		name, body string
		want       []string // "article|title|chapter|text"
	}{
		{"crlf line endings", "##### 제1조 (목적)\r\n\r\n**①** 첫째\r\n  1\\. 하나\r\n",
			[]string{"제1조|목적||① 첫째\n1. 하나"}},
		{"no caption", "##### 제5조\n\n본문\n", []string{"제5조|||본문"}},
		{"branch article", "##### 제3조의2 (보증금의 회수)\n\n본문\n", []string{"제3조의2|보증금의 회수||본문"}},
		{"paragraph without number", "##### 제1조 (목적)\n\n 번호 없는 항\n", []string{"제1조|목적||번호 없는 항"}},
		{"chapter at ## like newer renderings", "## 제1편 총칙\n### 제1장 통칙\n##### 제1조\n본문\n",
			[]string{"제1조||제1편 총칙 > 제1장 통칙|본문"}},
		{"addenda without articles before", "# 민법\n\n## 부칙\n\n##### 제1조\n본문\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lf, err := ParseLawMarkdown([]byte(front + tt.body))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range lf.Statutes {
				got = append(got, strings.Join([]string{s.Article, s.Title, s.Chapter, s.Text}, "|"))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestParsePrecedentMarkdownFixture(t *testing.T) {
	p, err := ParsePrecedentMarkdown(readFixture(t, "precedent-kr/민사/대법원/2099다1.md"), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Precedent{
		CaseNo: "2099다1, 2(반소)", Court: "대법원", CourtLevel: "대법원", CaseType: "민사",
		Date:  "2099-12-31", // written as 20991231 upstream
		Title: "임대차보증금반환: 시험", PrecedentID: "999001",
		Holding: "[1] 임차인이 보증금을 반환받을 때까지 임대차관계가 존속하는지 여부(적극)\n[2] 시험 판시사항",
		// No 판결요지 section: empty, not an error.
		Summary:          "",
		Disposition:      "상고를 기각한다. 상고비용은 피고가 부담한다.",
		CitedStatutes:    []string{}, // nil parser
		CitedStatutesRaw: "［1］ 주택임대차보호법 제4조 제2항,\n민법 제618조 / ［2］ 구 주택임대차보호법(2013. 8. 13. 법률 제12043호로 개정되기 전의 것) 제3조의2",
		CitedCasesRaw:    "대법원 2001. 5. 24. 선고 2000다1493 판결(공2001하, 1392), 대법원 2001. 5. 24. 선고 2000다1493 판결,\n대법원 1957. 5. 2. 선고 4290민상7 판결{요민Ⅲ-1, 133(1)}, 헌법재판소 2015. 7. 30. 선고 2013헌바439 전원재판부 결정",
		CitedCases:       []string{"2000다1493", "4290민상7", "2013헌바439"},
	}
	if d := fieldDiff(p, want); d != "" {
		t.Error(d)
	}
}

func TestCitedCaseNumbers(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"[1] 대법원 2003. 1. 24. 선고 2000다37937 판결(공2003상, 691) / [2][3] 대법원 1998. 6. 26. 선고 98다11826 판결(공1998하, 1990)", "2000다37937 98다11826"},
		{"대법원 1985. 4. 9. 선고 84다카1131, 1132 전원합의체 판결(공1985, 721)", "84다카1131"},
		{"대법원 2015. 4. 9.자 2014마188 결정", "2014마188"},
		{"대법원 1964. 7. 14. 선고 64다63 판결(집12-2, 민23)", "64다63"},
		{"1981.9.8. 선고 80므53 판결,\n1985.8.20. 선고 85므21 판결", "80므53 85므21"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := strings.Join(citedCaseNumbers(tt.raw), " "); got != tt.want {
			t.Errorf("citedCaseNumbers(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}

func TestDisposition(t *testing.T) {
	long := strings.Repeat("가", DispositionMax+20)
	tests := []struct{ name, full, want string }{
		{"spaces collapsed, lines kept", "【주    문】\n  상고를 모두 기각한다.\n  상고비용은 청구인들의 부담으로 한다.\n\n【이    유】 판단한다.",
			"상고를 모두 기각한다.\n상고비용은 청구인들의 부담으로 한다."},
		{"text on the heading line", "【주문】 상고를 기각한다.\n【이유】", "상고를 기각한다."},
		{"no 주문", "【이    유】 판단한다.", ""},
		{"capped in characters", "【주    문】\n" + long, long[:len("가")*DispositionMax]},
	}
	for _, tt := range tests {
		if got := disposition(tt.full); got != tt.want {
			t.Errorf("%s: disposition = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestParsePrecedentMarkdownErrors(t *testing.T) {
	for name, src := range map[string]string{
		"no front matter": "# 구상금\n\n## 판시사항\n\n내용\n",
		"no 사건번호":         "---\n판례일련번호: '1'\n사건명: 구상금\n---\n",
	} {
		if _, err := ParsePrecedentMarkdown([]byte(src), nil); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestImportMarkdownFixtures(t *testing.T) {
	var bad []string
	res, err := ImportMarkdown(filepath.Join("testdata", "import"), ImportOptions{
		OnBad:        func(e *ImportError) { bad = append(bad, e.Error()) },
		SourcePrefix: "fixture@000000000000/",
	})
	if err != nil {
		t.Fatal(err)
	}
	wantBad := []string{
		filepath.Join("testdata", "import", "kr", "깨진법", "법률.md") + ": " + ErrNoFrontMatter.Error(),
		filepath.Join("testdata", "import", "precedent-kr", "민사", "하급심", "2099가합2.md") + ": front matter has no 사건번호",
	}
	if !slices.Equal(bad, wantBad) || res.Bad != 2 {
		t.Errorf("bad (%d) = %q\nwant %q", res.Bad, bad, wantBad)
	}
	// 근로시험법 has two files; the current one (more articles, newer) wins.
	if res.LawFiles != 2 || res.Superseded != 1 || res.PrecFiles != 1 {
		t.Errorf("law files %d, superseded %d, precedent files %d; want 2, 1, 1", res.LawFiles, res.Superseded, res.PrecFiles)
	}
	var ids []string
	for _, s := range res.Statutes {
		ids = append(ids, s.ID())
		if s.Law == "근로시험법" && s.Source != "fixture@000000000000/kr/근로시험법/법률(법률).md" {
			t.Errorf("%s from %s, want the current file", s.ID(), s.Source)
		}
	}
	wantIDs := []string{"근로시험법 제1조", "근로시험법 제2조",
		"시험법 제1조", "시험법 제2조", "시험법 제3조", "시험법 제4조", "시험법 제5조", "시험법 제6조"}
	if !slices.Equal(ids, wantIDs) {
		t.Errorf("statutes %v\nwant %v", ids, wantIDs)
	}
	if !slices.Equal(res.EmptyArticles, []string{"시험법 제4조의2"}) {
		t.Errorf("EmptyArticles = %v", res.EmptyArticles)
	}
	if len(res.Precedents) != 1 || res.Precedents[0].Source != "fixture@000000000000/precedent-kr/민사/대법원/2099다1.md" {
		t.Errorf("precedents = %+v", res.Precedents)
	}

	// Without OnBad the first unusable file aborts, naming it.
	_, err = ImportMarkdown(filepath.Join("testdata", "import"), ImportOptions{})
	var ie *ImportError
	if !errors.As(err, &ie) || !strings.HasSuffix(ie.Path, filepath.Join("깨진법", "법률.md")) {
		t.Errorf("err = %v, want an ImportError for 깨진법", err)
	}
}

func TestImportMarkdownStreamsPrecedents(t *testing.T) {
	stop := errors.New("stop")
	var n int
	_, err := ImportMarkdown(filepath.Join("testdata", "import", "precedent-kr"), ImportOptions{
		OnBad:       func(*ImportError) {},
		OnPrecedent: func(p *Precedent) error { n++; return stop },
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("err = %v after %d precedents, want stop after 1", err, n)
	}
	if _, err := ImportMarkdown(filepath.Join("testdata", "no-such-dir"), ImportOptions{}); err == nil {
		t.Error("missing dir: no error")
	}
}

func TestClassify(t *testing.T) {
	tests := map[string]mdKind{
		"kr/민법/법률.md":                   mdLaw,
		"kr/근로기준법/법률(법률).md":            mdLaw,
		"kr/주택임대차보호법/시행령.md":            mdLaw,
		"kr/대한민국헌법/헌법.md":               mdLaw,
		"kr/소액사건심판법/대법원규칙.md":           mdLaw,
		"legalize-kr/주택임대차보호법-법률.md":    mdLaw,
		"민사/대법원/2015다12130.md":          mdPrecedent,
		"precedent-kr/형사/하급심/2020노1.md": mdPrecedent,
		"README.md":     mdOther,
		"kr/민법/법률.txt":  mdOther,
		"docs/guide.md": mdOther,
	}
	for rel, want := range tests {
		if got := classify(rel); got != want {
			t.Errorf("classify(%q) = %d, want %d", rel, got, want)
		}
	}
}
