package models

import (
	"math"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalizeText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"  전세   보증금\t반환\n", "전세 보증금 반환"},
		{"보증금 600만원, 2024년", "보증금 000만원, 0000년"},
		{"LH 전세임대 ABC", "lh 전세임대 abc"},
		{"\u00a0", ""},
		{"a\xffb", "ab"}, // invalid UTF-8 is dropped, not passed to the analyzer
	} {
		if got := normalizeText(c.in); got != c.want {
			t.Errorf("normalizeText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestFeatureSpaceEach(t *testing.T) {
	s, err := newFeatureSpace(FeatureConfig{CharNGramMin: 1, CharNGramMax: 3, Morphemes: "space", HashBits: 16}, spaceAnalyzer{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	s.each("보증금을  반환", func(kind byte, a, b string) { got = append(got, featureName(kind, a, b)) })
	want := []string{
		// unigrams (spaces alone are not features)
		`c:"보"`, `c:"증"`, `c:"금"`, `c:"을"`, `c:"반"`, `c:"환"`,
		// bigrams over " 보증금을 반환 ": word starts and ends carry the space
		`c:" 보"`, `c:"보증"`, `c:"증금"`, `c:"금을"`, `c:"을 "`, `c:" 반"`, `c:"반환"`, `c:"환 "`,
		`c:" 보증"`, `c:"보증금"`, `c:"증금을"`, `c:"금을 "`, `c:"을 반"`, `c:" 반환"`, `c:"반환 "`,
		// morphemes and their bigram
		`m:"보증금"`, `m:"반환"`, `b:"보증금+반환"`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("features\n got %q\nwant %q", got, want)
	}
}

func TestFeatureSpaceWithoutMorphemes(t *testing.T) {
	// An analyzer passed with a character-only config must not leak morphemes in.
	s, err := newFeatureSpace(FeatureConfig{CharNGramMin: 2, CharNGramMax: 2, HashBits: 16}, spaceAnalyzer{})
	if err != nil {
		t.Fatal(err)
	}
	s.each("임대차 보호법", func(kind byte, a, b string) {
		if kind != kindChar || utf8.RuneCountInString(a) != 2 {
			t.Errorf("unexpected feature %s", featureName(kind, a, b))
		}
	})
}

func TestFeatureHashKeepsKindsApart(t *testing.T) {
	seen := map[uint64]string{}
	for _, f := range []struct {
		kind byte
		a, b string
	}{
		{kindChar, "보증금", ""}, {kindMorpheme, "보증금", ""}, {kindMorphemeBigram, "보증", "금"},
		{kindMorphemeBigram, "보", "증금"}, {kindChar, "보증", ""},
	} {
		h := featureHash(f.kind, f.a, f.b)
		if prev, ok := seen[h]; ok {
			t.Errorf("%s and %s hash alike", prev, featureName(f.kind, f.a, f.b))
		}
		seen[h] = featureName(f.kind, f.a, f.b)
	}
}

func TestVectorIsSortedUnitLength(t *testing.T) {
	s, _ := newFeatureSpace(DefaultFeatureConfig("space"), spaceAnalyzer{})
	for _, text := range []string{"집주인이 보증금을 안 돌려줘요", "요요요요요요", "a", ""} {
		checkVector(t, s, text)
	}
}

func checkVector(t *testing.T, s featureSpace, text string) {
	t.Helper()
	v := s.vector(text)
	if len(v.idx) != len(v.val) {
		t.Fatalf("%q: %d indices, %d values", text, len(v.idx), len(v.val))
	}
	if strings.TrimSpace(normalizeText(text)) == "" {
		if len(v.idx) != 0 {
			t.Errorf("%q: blank text has features", text)
		}
		return
	}
	var norm float64
	for i, j := range v.idx {
		if j >= 1<<s.cfg.HashBits {
			t.Fatalf("%q: index %d out of range", text, j)
		}
		if i > 0 && v.idx[i-1] >= j {
			t.Fatalf("%q: indices not strictly increasing", text)
		}
		norm += float64(v.val[i]) * float64(v.val[i])
	}
	if math.Abs(norm-1) > 1e-4 {
		t.Errorf("%q: squared length %v, want 1", text, norm)
	}
}

func FuzzFeatureVector(f *testing.F) {
	for _, s := range []string{"전세 보증금을 집주인이 안 돌려줘요", "오늘 저녁 뭐 먹지", "", " ", "\xff\xfe", "①②\u200b甲乙", "a b c"} {
		f.Add(s)
	}
	space, err := newFeatureSpace(FeatureConfig{CharNGramMin: 1, CharNGramMax: 3, Morphemes: "space", HashBits: 12}, spaceAnalyzer{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		checkVector(t, space, text)
	})
}
