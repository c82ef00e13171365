package law

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// testCatalog holds a handful of real articles, enough for name mapping and resolution.
func testCatalog() *Catalog {
	c := NewCatalog(nil)
	for _, id := range []string{
		"민법 제1조", "민법 제31조", "민법 제70조", "민법 제71조", "민법 제186조", "민법 제393조",
		"민법 제575조", "민법 제578조", "민법 제618조", "민법 제619조", "민법 제620조", "민법 제621조",
		"민법 제623조", "민법 제750조", "민법 제763조",
		"주택임대차보호법 제3조", "주택임대차보호법 제3조의2", "주택임대차보호법 제3조의3", "주택임대차보호법 제4조",
		"주택임대차보호법 제6조", "주택임대차보호법 제6조의2", "주택임대차보호법 시행령 제2조",
		"집합건물의 소유 및 관리에 관한 법률 제1조", "집합건물의 소유 및 관리에 관한 법률 제20조",
		"근로기준법 제19조", "근로기준법 제20조", "근로기준법 제45조", "근로기준법 시행령 제31조",
		"민사소송법 제34조", "민사소송법 제368조의2", "민사소송법 제413조",
		"상가건물 임대차보호법 제10조의4", "대한민국헌법 제121조",
		"약관의 규제에 관한 법률 제4조", "부동산등기법 제15조", "부동산등기법 제101조",
	} {
		law, art, _ := SplitArticleID(id)
		c.Add(law, art)
	}
	return c
}

func TestParseReference(t *testing.T) {
	p := NewCitationParser(testCatalog())
	tests := []struct {
		name, raw string
		want      []string
	}{
		{"list carries the law", "민법 제31조, 제70조, 제71조",
			[]string{"민법 제31조", "민법 제70조", "민법 제71조"}},
		{"groups, 구 prefix, amendment note, 시행령", "[1] 민법 제618조, 제623조 / [2] 구 주택임대차보호법(2013. 8. 13. 법률 제12043호로 개정되기 전의 것) 제3조 제1항, 같은 법 시행령 제2조",
			[]string{"민법 제618조", "민법 제623조", "주택임대차보호법 제3조", "주택임대차보호법 시행령 제2조"}},
		{"가. markers keep the law across groups", "가. 민사소송법 제413조, 제368조의2 / 나.다. 제34조",
			[]string{"민사소송법 제413조", "민사소송법 제368조의2", "민사소송법 제34조"}},
		{"unspaced old title mapped", "[1] 집합건물의소유및관리에관한법률 제1조, 민법 제215조, 부동산등기법 제15조 제1항, 제101조",
			[]string{"집합건물의 소유 및 관리에 관한 법률 제1조", "민법 제215조", "부동산등기법 제15조", "부동산등기법 제101조"}},
		{"헌법 is 대한민국헌법; 현행 note skipped", "[1] 헌법 제121조, 구 농지법(2015. 1. 20. 법률 제13022호로 개정되기 전의 것) 제1조(현행 제1조 참조), 제3조(현행 제3조 참조)",
			[]string{"대한민국헌법 제121조", "농지법 제1조", "농지법 제3조"}},
		{"동법시행령 glued", "근로기준법 제45조, 동법시행령 제31조",
			[]string{"근로기준법 제45조", "근로기준법 시행령 제31조"}},
		{"같은 법 after a 시행령 means the law", "나.다. 근로기준법 제18조, 제19조, 같은법시행령 제31조 / 다. 같은 법 제20조",
			[]string{"근로기준법 제18조", "근로기준법 제19조", "근로기준법 시행령 제31조", "근로기준법 제20조"}},
		{"newlines as in older records", "민법 제750조,\n민사집행법 제276조,\n제300조",
			[]string{"민법 제750조", "민사집행법 제276조", "민사집행법 제300조"}},
		{"bracketed headings dropped", "[1] 민사소송법 제45조 제1항, 제46조 / [3] 민사소송법 제48조, 제248조[소의제기]",
			[]string{"민사소송법 제45조", "민사소송법 제46조", "민사소송법 제48조", "민사소송법 제248조"}},
		{"missing comma between laws", "민사소송법 제187조, 제261조민법 제460조",
			[]string{"민사소송법 제187조", "민사소송법 제261조", "민법 제460조"}},
		{"applied article in parentheses kept", "민법 제763조(제393조)",
			[]string{"민법 제763조", "민법 제393조"}},
		{"range with 내지 and a bare end", "노동조합법 제40조 내지 제43조",
			[]string{"노동조합법 제40조", "노동조합법 제41조", "노동조합법 제42조", "노동조합법 제43조"}},
		{"부칙 is not the law's article", "민법 제2조, 민법 부칙 제10조 제1항",
			[]string{"민법 제2조", "민법 부칙 제10조"}},
		{"law outside the corpus kept", "국가배상법 제2조 제1항,\n구 국가유공자법(2008. 3. 28. 법률 제9079호로 개정되기 전의 것) 제49조 제2호,\n제52조",
			[]string{"국가배상법 제2조", "국가유공자법 제49조", "국가유공자법 제52조"}},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := IDs(p.ParseReference(tt.raw))
			if len(got) == 0 && len(tt.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseReference(%q)\n got %q\nwant %q", tt.raw, got, tt.want)
			}
		})
	}
}

func TestParseProse(t *testing.T) {
	p := NewCitationParser(testCatalog())
	tests := []struct {
		name, text string
		home       string
		want       []string
	}{
		{"bracketed title, 같은 법, 동법", "「주택임대차보호법」 제3조제1항, 같은 법 제4조 및 동법 제6조의2에 따라",
			"", []string{"주택임대차보호법 제3조", "주택임대차보호법 제4조", "주택임대차보호법 제6조의2"}},
		{"list with 및", "임차인은 주택임대차보호법 제3조, 제4조 및 제6조의2를 근거로 보증금을 돌려받을 수 있습니다.",
			"", []string{"주택임대차보호법 제3조", "주택임대차보호법 제4조", "주택임대차보호법 제6조의2"}},
		{"statute text with ㆍ", "「민법」 제575조제1항ㆍ제3항 및 같은 법 제578조를 준용한다.",
			"", []string{"민법 제575조", "민법 제578조"}},
		{"short names expand in prose", "상가임대차법 제10조의4와 집합건물법 제20조",
			"", []string{"상가건물 임대차보호법 제10조의4", "집합건물의 소유 및 관리에 관한 법률 제20조"}},
		{"a longer name is not a shorter law", "군형법 제1조", "", []string{"군형법 제1조"}},
		{"이 법 without a home law is dropped", "이 법 제3조에 따른다", "", nil},
		{"이 법 with a home law", "이 법 제3조에 따른 대항요건", "주택임대차보호법", []string{"주택임대차보호법 제3조"}},
		{"citation inside parentheses", "보증금을 돌려받을 수 있습니다(「주택임대차보호법」 제3조의3 참조).",
			"", []string{"주택임대차보호법 제3조의3"}},
		{"부터 까지 range from the catalog", "「주택임대차보호법」 제3조부터 제4조까지",
			"", []string{"주택임대차보호법 제3조", "주택임대차보호법 제3조의2", "주택임대차보호법 제3조의3", "주택임대차보호법 제4조"}},
		{"full-width digits", "민법 제６１８조", "", []string{"민법 제618조"}},
		{"no citation", "집주인이 보증금을 안 돌려줘요", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := IDs(p.ParseWith(tt.text, ParseOptions{HomeLaw: tt.home}))
			if len(got) == 0 && len(tt.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q)\n got %q\nwant %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestCitationResolved(t *testing.T) {
	p := NewCitationParser(testCatalog())
	got := p.ParseReference("민법 제618조, 제9999조, 국가유공자법 제49조")
	want := []Citation{{"민법", "제618조", true}, {"민법", "제9999조", false}, {"국가유공자법", "제49조", false}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestRangeIsCapped(t *testing.T) {
	p := NewCitationParser(nil)
	got := IDs(p.ParseReference("민법 제1조 내지 제9999조"))
	if len(got) > maxRangeSpan+1 {
		t.Fatalf("range expanded to %d articles", len(got))
	}
	if got[0] != "민법 제1조" || got[len(got)-1] != "민법 제9999조" {
		t.Fatalf("range endpoints lost: %q", got)
	}
}

func TestParseWithoutCatalog(t *testing.T) {
	p := NewCitationParser(nil)
	got := p.ParseReference("헌법 제11조, 민법 제618조")
	if len(got) != 2 || got[0].ID() != "대한민국헌법 제11조" || got[0].Resolved {
		t.Fatalf("got %+v", got)
	}
}

func FuzzParseCitations(f *testing.F) {
	for _, s := range []string{
		"[1] 민법 제618조, 제623조 / [2] 구 주택임대차보호법(2013. 8. 13. 법률 제12043호로 개정되기 전의 것) 제3조 제1항, 같은 법 시행령 제2조",
		"「주택임대차보호법」 제3조제1항, 같은 법 제4조, 동법 제6조의2", "제3조, 제4조 및 제6조의2",
		"민법 제763( 제393조)조", "((((제1조", "제1조 내지 제99999조", "「」 제1조", "가.나.다. 같은법시행령 제31조",
	} {
		for m := range 3 {
			f.Add(s, uint8(m))
		}
	}
	p := NewCitationParser(testCatalog())
	f.Fuzz(func(t *testing.T, s string, mode uint8) {
		start := time.Now()
		got := p.ParseWith(s, ParseOptions{Mode: Mode(mode % 3)})
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("parse of %d bytes took %v", len(s), d)
		}
		seen := map[string]bool{}
		for _, c := range got {
			id := c.ID()
			if seen[id] {
				t.Fatalf("duplicate %q", id)
			}
			seen[id] = true
			if c.Law == "" || !strings.HasPrefix(c.Article, "제") || !strings.HasSuffix(strings.TrimRight(c.Article, "0123456789의"), "조") {
				t.Fatalf("malformed citation %+v from %q", c, s)
			}
		}
		if limit := strings.Count(s, "조") * (maxRangeSpan + 1); len(got) > limit {
			t.Fatalf("%d citations from %d mentions of 조", len(got), strings.Count(s, "조"))
		}
	})
}

func BenchmarkParseReference(b *testing.B) {
	p := NewCitationParser(testCatalog())
	raw := "[1] 민법 제618조, 제623조 / [2] 구 주택임대차보호법(2013. 8. 13. 법률 제12043호로 개정되기 전의 것) 제3조 제1항, 같은 법 시행령 제2조"
	for b.Loop() {
		p.ParseReference(raw)
	}
}

// TestParsePathological feeds inputs shaped to make a careless parser quadratic or recursive;
// the test timeout is the hang detector.
func TestParsePathological(t *testing.T) {
	p := NewCitationParser(testCatalog())
	inputs := []string{
		strings.Repeat("(", 200000) + "민법 제1조",
		strings.Repeat("(제1조 ", 50000) + strings.Repeat(")", 50000),
		strings.Repeat("민법 제1조 내지 제40조, ", 5000),
		strings.Repeat("같은 법 ", 50000) + "제3조",
		strings.Repeat("가.", 100000) + " 제3조",
	}
	for _, in := range inputs {
		for _, mode := range []Mode{ModeAuto, ModeReference, ModeProse} {
			for _, c := range p.ParseWith(in, ParseOptions{Mode: mode}) {
				if c.Law == "" {
					t.Fatalf("law-less citation %+v", c)
				}
			}
		}
	}
}

func TestLooksLikeReferenceList(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{"민법 제31조, 제70조, 제71조", true},
		{"가. 노동조합법 제39조 제1호 / 나.다. 근로기준법 제27조 제1항", true},
		{"[1] 상가건물 임대차보호법 제10조 제1항, 제2항, 제3항, 부칙(2018. 10. 16.) 제2조, 구 상가건물 임대차보호법(2018. 10. 16. 법률 제15791호로 개정되기 전의 것) 제10조 제2항 / [2] 민법 제251조", true},
		{"[1] 민법 제105조 / [2] 민법 제103조, 부정경쟁방지 및 영업비밀보호에 관한 법률 제2조 제2호", true},
		{"민사소송법 제187조, 제261조민법 제460조", true},
		{"상가임대차법 제10조의4와 집합건물법 제20조", false},
		{"임대차는 민법 제618조에 규정되어 있다.", false},
		{"보증금을 돌려받을 수 있습니다(「주택임대차보호법」 제3조의3 참조).", false},
		{"집주인이 보증금을 안 돌려줘요", false},
	}
	for _, tt := range tests {
		if got := LooksLikeReferenceList(tt.text); got != tt.want {
			t.Errorf("LooksLikeReferenceList(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}

func TestProseUnknownMultiWordLaw(t *testing.T) {
	p := NewCitationParser(testCatalog())
	tests := []struct{ text, want string }{
		{"민법 제618조와 함께 부정경쟁방지 및 영업비밀보호에 관한 법률 제2조를 보면", "부정경쟁방지 및 영업비밀보호에 관한 법률 제2조"},
		{"이 경우에는 도시 및 주거환경정비법 제39조가 적용됩니다.", "도시 및 주거환경정비법 제39조"},
		{"민법 제618조에 더해 그리고 국세기본법 제3조", "국세기본법 제3조"},
	}
	for _, tt := range tests {
		got := IDs(p.ParseWith(tt.text, ParseOptions{Mode: ModeProse}))
		if len(got) == 0 || got[len(got)-1] != tt.want {
			t.Errorf("Parse(%q) = %q, want last %q", tt.text, got, tt.want)
		}
	}
}
