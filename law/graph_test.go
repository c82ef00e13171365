package law

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"
)

func TestCaseNumbers(t *testing.T) {
	tests := []struct {
		caseNo string
		want   []string
	}{
		{"2016다235411", []string{"2016다235411"}},
		{"2017다206977, 206984", []string{"2017다206977", "2017다206984"}},
		{"2000므1257(본소), 1264(반소)", []string{"2000므1257", "2000므1264"}},
		{"2015므654,661", []string{"2015므654", "2015므661"}},
		{"2024스866, 867, 868", []string{"2024스866", "2024스867", "2024스868"}},
		{"94므901, 94므918", []string{"94므901", "94므918"}},
		{"94다2862(본소), 94다2879(반소)", []string{"94다2862", "94다2879"}},
		{"2013드합2446,2014드합478,1297", []string{"2013드합2446", "2014드합478", "2014드합1297"}},
		{"2023도15133, 2023전도163, 164", []string{"2023도15133", "2023전도163", "2023전도164"}},
		{"(제주)2019라508", []string{"2019라508"}},
		{"2019다249589 ", []string{"2019다249589"}},
		{"90다카19098(본소), 19104(참가), 19111(반소)", []string{"90다카19098", "90다카19104", "90다카19111"}},
		{"83브192-197", []string{"83브192-197"}}, // a range: kept whole
		{"", nil},
	}
	for _, tt := range tests {
		if got := CaseNumbers(tt.caseNo); !slices.Equal(got, tt.want) {
			t.Errorf("CaseNumbers(%q) = %q, want %q", tt.caseNo, got, tt.want)
		}
	}
}

func TestCompareCaseNo(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"2016다99999", "2016다235411", -1},
		{"2016다235411", "2016다235411", 0},
		{"2017다1", "2016다235411", 1},
		{"2016다1", "2016도1", -1},
		{"2016다1", "2016다1, 2", -1},
	}
	for _, tt := range tests {
		if got := compareCaseNo(tt.a, tt.b); got != tt.want {
			t.Errorf("compareCaseNo(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// graphFixture is a handful of real decisions, trimmed to what the graph reads. The citations of
// 2024다293580 and 2025다210005 are real; the rest are cut down to keep the expected counts readable.
func graphFixture() []Precedent {
	return []Precedent{
		{CaseNo: "2016다235411", Court: "대법원", Date: "2020-04-29",
			CitedStatutes: []string{"민법 제345조", "민법 제361조", "민법 제186조"},
			CitedCases:    []string{"97다33997", "2003다61542"}},
		{CaseNo: "2025다210005, 210006", Court: "대법원", Date: "2025-06-12",
			CitedStatutes: []string{"민법 제618조", "민법 제741조"},
			CitedCases:    []string{"98다8554", "2016다235411"}},
		{CaseNo: "2024다293580", Court: "대법원", Date: "2025-05-01",
			CitedStatutes: []string{"민법 제105조", "민법 제623조", "민법 제537조", "민법 제618조", "민법 제741조"},
			CitedCases:    []string{"94다42020", "2016다9643", "2017다254228"}},
		{CaseNo: "2000므1257(본소), 1264(반소)", Court: "대법원", Date: "2003-11-14",
			CitedStatutes: []string{"민법 제806조", "가사소송법 제2조"},
			CitedCases:    []string{"88므146"}},
		{CaseNo: "2004므1000", Court: "대법원", Date: "2005-01-01",
			CitedStatutes: []string{"민법 제806조", "민법 제806조"}, // duplicate citation counts once
			CitedCases:    []string{"2000므1264", "2000므1257"}},
		{CaseNo: "2024다312566", Court: "대법원", Date: "2025-05-01",
			CitedStatutes: []string{"민법 제618조", "주택임대차보호법 제3조"},
			CitedCases:    []string{"2016다235411", "2024다293580", "2024다312566"}}, // self-citation ignored
	}
}

func caseNos(ps []*Precedent) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.CaseNo
	}
	return out
}

func TestPrecedentsCiting(t *testing.T) {
	g := NewCitationGraph(graphFixture())
	tests := []struct {
		article string
		limit   int
		want    []string
	}{
		// Same date: the higher case number first.
		{"민법 제618조", 0, []string{"2025다210005, 210006", "2024다312566", "2024다293580"}},
		{"민법 제618조", 2, []string{"2025다210005, 210006", "2024다312566"}},
		{"민법 제806조", 0, []string{"2004므1000", "2000므1257(본소), 1264(반소)"}},
		{"민법 제999조", 0, []string{}},
	}
	for _, tt := range tests {
		got := caseNos(g.PrecedentsCiting(tt.article, tt.limit))
		if !slices.Equal(got, tt.want) {
			t.Errorf("PrecedentsCiting(%q, %d) = %q, want %q", tt.article, tt.limit, got, tt.want)
		}
	}
	if n := g.ArticleCitedBy("민법 제806조"); n != 2 {
		t.Errorf("ArticleCitedBy(민법 제806조) = %d, want 2", n)
	}
}

func TestCoCited(t *testing.T) {
	g := NewCitationGraph(graphFixture())
	tests := []struct {
		article string
		limit   int
		want    []CoCitation
	}{
		{"민법 제618조", 3, []CoCitation{{"민법 제741조", 2}, {"민법 제105조", 1}, {"민법 제537조", 1}}},
		{"민법 제806조", 0, []CoCitation{{"가사소송법 제2조", 1}}},
		{"주택임대차보호법 제3조", 0, []CoCitation{{"민법 제618조", 1}}},
		{"없는법 제1조", 0, nil},
	}
	for _, tt := range tests {
		if got := g.CoCited(tt.article, tt.limit); !slices.Equal(got, tt.want) {
			t.Errorf("CoCited(%q, %d) = %v, want %v", tt.article, tt.limit, got, tt.want)
		}
	}
}

func TestPrecedentsCitingCase(t *testing.T) {
	g := NewCitationGraph(graphFixture())
	tests := []struct {
		caseNo string
		want   []string
	}{
		{"2016다235411", []string{"2025다210005, 210006", "2024다312566"}},
		{"2016다 235411", []string{"2025다210005, 210006", "2024다312566"}},
		// Citing either number of a joined case is citing the decision, and counts once.
		{"2000므1264", []string{"2004므1000"}},
		{"2000므1257(본소), 1264(반소)", []string{"2004므1000"}},
		{"2024다312566", []string{}},
		// Cited, but not in the corpus.
		{"98다8554", []string{"2025다210005, 210006"}},
		{"2099다1", []string{}},
	}
	for _, tt := range tests {
		got := caseNos(g.PrecedentsCitingCase(tt.caseNo, 0))
		if !slices.Equal(got, tt.want) {
			t.Errorf("PrecedentsCitingCase(%q) = %q, want %q", tt.caseNo, got, tt.want)
		}
		if n := g.CitedBy(tt.caseNo); n != len(tt.want) {
			t.Errorf("CitedBy(%q) = %d, want %d", tt.caseNo, n, len(tt.want))
		}
	}
}

func TestGraphPrecedentLookup(t *testing.T) {
	g := NewCitationGraph(graphFixture())
	tests := []struct {
		caseNo string
		want   string // "" when absent
	}{
		{"2016다235411", "2016다235411"},
		{"2025다210006", "2025다210005, 210006"},
		{"2025다210005,210006", "2025다210005, 210006"},
		{"2000므1264", "2000므1257(본소), 1264(반소)"},
		{"98다8554", ""}, // only cited
		{"2099다1", ""},
	}
	for _, tt := range tests {
		p, ok := g.Precedent(tt.caseNo)
		got := ""
		if ok {
			got = p.CaseNo
		}
		if got != tt.want {
			t.Errorf("Precedent(%q) = %q, want %q", tt.caseNo, got, tt.want)
		}
	}
	st := g.Stats()
	if st.Precedents != 6 || st.CaseCitations != 11 || st.CitedOnlyCases != 7 {
		t.Errorf("Stats() = %+v", st)
	}
}

func TestGraphFirstPrecedentOwnsCaseNo(t *testing.T) {
	g := NewCitationGraph([]Precedent{
		{CaseNo: "63다211", Court: "대법원", Date: "1963-06-05"},
		{CaseNo: "63다211", Court: "광주고등법원", Date: "1963-10-22"},
	})
	if p, _ := g.Precedent("63다211"); p == nil || p.Court != "대법원" {
		t.Errorf("Precedent(63다211) = %+v, want the 대법원 decision", p)
	}
}

// BenchmarkCitationGraph builds the graph over the real precedents when the corpus is present.
func BenchmarkCitationGraph(b *testing.B) {
	dir := os.Getenv(DataEnv)
	if dir == "" {
		dir = filepath.Join("..", DefaultDataDir)
	}
	files, _ := PrecedentFiles(dir)
	if len(files) == 0 {
		b.Skip("no corpus; set " + DataEnv)
	}
	var ps []Precedent
	for _, f := range files {
		err := ReadJSONL(f, ReadOptions{OnBad: func(*LineError) {}}, func(p *Precedent) error {
			ps = append(ps, *p)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.Run("build", func(b *testing.B) {
		for b.Loop() {
			NewCitationGraph(ps)
		}
	})
	g := NewCitationGraph(ps)
	b.Logf("%+v", g.Stats())
	b.Run("query", func(b *testing.B) {
		for b.Loop() {
			g.PrecedentsCiting("민법 제618조", 10)
			g.CoCited("민법 제618조", 10)
			g.PrecedentsCitingCase("98다43137", 10)
		}
	})
}

func ExampleCitationGraph_CoCited() {
	g := NewCitationGraph([]Precedent{
		{CaseNo: "2025다210005, 210006", Date: "2025-06-12", CitedStatutes: []string{"민법 제618조", "민법 제741조"}},
		{CaseNo: "2024다293580", Date: "2025-05-01", CitedStatutes: []string{"민법 제618조", "민법 제741조", "민법 제537조"}},
	})
	for _, c := range g.CoCited("민법 제618조", 5) {
		fmt.Println(c.ArticleID, c.Count)
	}
	// Output:
	// 민법 제741조 2
	// 민법 제537조 1
}

func TestNearestCaseNos(t *testing.T) {
	g := NewCitationGraph(graphFixture())
	tests := []struct {
		caseNo string
		want   []string
	}{
		{"2016다235412", []string{"2016다235411"}},
		{"2025다210007", []string{"2025다210006", "2025다210005"}},
		{"2024나293580", []string{"2024다293580"}}, // wrong 사건부호
		{"2099도1", []string{}},
		{"not a case", nil},
	}
	for _, tt := range tests {
		if got := g.NearestCaseNos(tt.caseNo, 2); !slices.Equal(got, tt.want) {
			t.Errorf("NearestCaseNos(%q) = %q, want %q", tt.caseNo, got, tt.want)
		}
	}
}

func FuzzCaseNumbers(f *testing.F) {
	for _, s := range []string{"2016다235411", "2000므1257(본소), 1264(반소)", "2015므654,661", "(제주)2019라508",
		"83브192-197", "80다3155 ~ 3160", "2007카기138(2007다50250)", "((", ")1,2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		nums := CaseNumbers(s)
		for i, n := range nums {
			if n == "" || strings.ContainsFunc(n, unicode.IsSpace) || strings.ContainsAny(n, "(),") {
				t.Errorf("CaseNumbers(%q)[%d] = %q", s, i, n)
			}
			if slices.Contains(nums[:i], n) {
				t.Errorf("CaseNumbers(%q) repeats %q", s, n)
			}
		}
		// Expanding is stable: each number expands to itself.
		for _, n := range nums {
			if got := CaseNumbers(n); len(got) != 1 || got[0] != n {
				if _, _, _, ok := splitCaseNo(n); ok {
					t.Errorf("CaseNumbers(%q) = %q, want itself", n, got)
				}
			}
		}
	})
}
