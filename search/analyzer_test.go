package search

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMorphemes(t *testing.T) {
	a := DefaultAnalyzer()
	tests := []struct {
		name    string
		text    string
		want    []string // each must be among the morphemes
		anyOf   [][]string
		notWant []string // none may be among them
	}{
		{
			name:    "question keeps nouns and the verb stem, drops particles and endings",
			text:    "전세 계약이 끝났는데 집주인이 보증금을 안 돌려줘요",
			want:    []string{"전세", "계약", "보증금", "돌리"},
			anyOf:   [][]string{{"집주인"}, {"집", "주인"}},
			notWant: []string{"이", "을", "요", "는데", "어요", "안", "돌려줘요", "계약이", "보증금을"},
		},
		{
			name:    "compound noun whole and in parts",
			text:    "주택임대차보호법 제3조에 따른 대항력",
			want:    []string{"주택", "임대차", "보호법", "대항력"},
			notWant: []string{"에", "따른"},
		},
		{
			name:    "stop nouns and light verbs are dropped",
			text:    "이 경우 임대인은 보증금을 반환하여야 한다",
			want:    []string{"임대인", "보증금", "반환"},
			notWant: []string{"경우", "하", "은", "을", "한다"},
		},
		{
			name:    "한자 gloss is stripped",
			text:    "임차인(賃借人)은 보증금을 돌려받을 수 있다",
			want:    []string{"임차인", "보증금"},
			notWant: []string{"賃借人", "賃", "수", "있"},
		},
		{
			name:    "full-width digits are folded",
			text:    "ＬＨ 공사의 임대주택 제６１８조",
			want:    []string{"공사", "임대", "주택"},
			notWant: []string{"ＬＨ", "LH", "L", "Ｌ", "６１８"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := a.Morphemes(tt.text)
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("Morphemes(%q) = %q lacks %q", tt.text, got, w)
				}
			}
			if len(tt.anyOf) > 0 {
				ok := false
				for _, alt := range tt.anyOf {
					all := true
					for _, w := range alt {
						all = all && slices.Contains(got, w)
					}
					ok = ok || all
				}
				if !ok {
					t.Errorf("Morphemes(%q) = %q has none of %q", tt.text, got, tt.anyOf)
				}
			}
			for _, w := range tt.notWant {
				if slices.Contains(got, w) {
					t.Errorf("Morphemes(%q) = %q holds %q", tt.text, got, w)
				}
			}
			for _, m := range got {
				if m == "" || strings.ContainsAny(m, " \t\n") {
					t.Errorf("Morphemes(%q): bad term %q", tt.text, m)
				}
			}
		})
	}
}

func TestMorphemesGlossSameAsPlain(t *testing.T) {
	a := DefaultAnalyzer()
	for _, pair := range [][2]string{
		{"임차인(賃借人)은 보증금을 돌려받을 수 있다", "임차인은 보증금을 돌려받을 수 있다"},
		{"전대차(轉貸借)의 효력", "전대차의 효력"},
		{"임차인（賃借人）", "임차인"},
		{"주택임대차보호법 제３조（대항력 등）", "주택임대차보호법 제3조(대항력 등)"},
		{"ＬＨ공사　임대주택", "lh공사 임대주택"},
	} {
		if got, want := a.Morphemes(pair[0]), a.Morphemes(pair[1]); !slices.Equal(got, want) {
			t.Errorf("Morphemes(%q) = %q, Morphemes(%q) = %q; want equal", pair[0], got, pair[1], want)
		}
		if got, want := a.Bigrams(pair[0]), a.Bigrams(pair[1]); !slices.Equal(got, want) {
			t.Errorf("Bigrams(%q) = %q, Bigrams(%q) = %q; want equal", pair[0], got, pair[1], want)
		}
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"임차인(賃借人)", "임차인"},
		{"임차인( 賃借人 )은", "임차인은"},
		{"제６１８조", "제618조"},
		{"ＡＢＣ\u3000Def", "abc def"},
		{"민법 제618조(임대차의 의의)", "민법 제618조(임대차의 의의)"}, // Korean in parentheses is kept
		{"(가)목", "(가)목"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestBigrams(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"주택임대차", []string{"주택", "택임", "임대", "대차"}},
		{"주택 임대차", []string{"주택", "택임", "임대", "대차"}},
		{"가", []string{"가"}},
		{"가, 나", []string{"가", "나"}},                               // punctuation ends a run; each run of one yields itself
		{"제3조(대항력)", []string{"제3", "3조", "대항", "항력"}},             // parentheses split runs
		{"민법 제618조", []string{"민법", "법제", "제6", "61", "18", "8조"}}, // spacing does not
		{"", nil},
		{"  ,.() ", nil},
	}
	for _, tt := range tests {
		if got := Bigrams(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("Bigrams(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAnalyzerBigramsSpacingAndWidth(t *testing.T) {
	a := DefaultAnalyzer()
	groups := [][]string{
		{"주택 임대차", "주택임대차", "주 택 임 대 차", "주택\u3000임대차"},
		{"제618조", "제６１８조", "제 618 조"},
		{"임차인(賃借人)", "임차인", "임 차 인"},
	}
	for _, g := range groups {
		want := a.Bigrams(g[0])
		if len(want) == 0 {
			t.Fatalf("Bigrams(%q) is empty", g[0])
		}
		for _, s := range g[1:] {
			if got := a.Bigrams(s); !slices.Equal(got, want) {
				t.Errorf("Bigrams(%q) = %q, Bigrams(%q) = %q; want equal", s, got, g[0], want)
			}
		}
	}
}

func FuzzAnalyzer(f *testing.F) {
	for _, s := range []string{
		"전세 계약이 끝났는데 집주인이 보증금을 안 돌려줘요",
		"임차인(賃借人)은 ＡＢＣ 제６１８조",
		"[1] 민법 제618조, 제623조 / [2] 구 주택임대차보호법(2013. 8. 13. 법률 제12043호로 개정되기 전의 것) 제3조 제1항",
		"가", "(", "(賃", "\x00", "\xff\xfe", "ㄱㄴㄷ", "",
	} {
		f.Add(s)
	}
	a := DefaultAnalyzer()
	f.Fuzz(func(t *testing.T, s string) {
		for _, m := range a.Morphemes(s) {
			if m == "" {
				t.Errorf("Morphemes(%q) holds an empty term", s)
			}
		}
		for _, b := range a.Bigrams(s) {
			if n := utf8.RuneCountInString(b); n < 1 || n > 2 {
				t.Errorf("Bigrams(%q) holds %q of %d runes", s, b, n)
			}
			if strings.ContainsAny(b, " \t\n\x00") {
				t.Errorf("Bigrams(%q) holds %q with a space or NUL", s, b)
			}
		}
	})
}
