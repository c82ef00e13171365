package models

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lawbot-kr/lawbot/search"
)

// bigramAnalyzer is spaceAnalyzer's morphemes plus the analyzer's own dictionary-free
// character bigrams, so the test needs no dictionary.
type bigramAnalyzer struct{ spaceAnalyzer }

func (bigramAnalyzer) Bigrams(text string) []string { return search.Bigrams(text) }

func TestTextTokens(t *testing.T) {
	for _, c := range []struct {
		text string
		want []string
	}{
		{"보증금을 반환", []string{"보증금", "반환", "#보증", "#증금", "#금을", "#을반", "#반환"}},
		{"임차인이 해지", []string{"임차인", "해지", "#임차", "#차인", "#인이", "#이해", "#해지"}},
		{"집.", []string{"집", "#집"}},
		{"", []string{}},
		{"...", []string{}},
	} {
		got := TextTokens(bigramAnalyzer{}, c.text)
		if !slices.Equal(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
			t.Errorf("TextTokens(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}

func TestTokenizerEncode(t *testing.T) {
	vocab := []string{PadToken, UnkToken, "보증금", "반환", "#보증", "#반환", "임대차"}
	tok := NewTokenizer(vocab, 5, bigramAnalyzer{})
	for _, c := range []struct {
		text string
		want []int32
	}{
		// 보증금 반환 #보증 #증금(unk) #금을(unk) — cut at 5
		{"보증금을 반환", []int32{2, 3, 4, 1, 1}},
		{"임대차", []int32{6, 1, 1}}, // 임대차, #임대, #대차
		{"반환", []int32{3, 5}},
		{"", []int32{UnkID}},
		{"?!", []int32{UnkID}},
		{"전혀 모르는 말", []int32{1, 1, 1, 1, 1}},
	} {
		if got := tok.Encode(c.text); !slices.Equal(got, c.want) {
			t.Errorf("Encode(%q) = %v, want %v", c.text, got, c.want)
		}
	}
	if tok.VocabSize() != 7 || tok.MaxLen() != 5 {
		t.Errorf("VocabSize %d MaxLen %d, want 7 5", tok.VocabSize(), tok.MaxLen())
	}
	if tok.Token(2) != "보증금" || tok.Token(99) != "" || tok.ID("없는말") != UnkID {
		t.Errorf("Token/ID look-ups wrong")
	}
}

func TestNewTokenizerAddsSpecials(t *testing.T) {
	tok := NewTokenizer([]string{"보증금", "보증금", "반환"}, 0, bigramAnalyzer{})
	if tok.Token(0) != PadToken || tok.Token(1) != UnkToken || tok.ID("보증금") != 2 || tok.ID("반환") != 4 {
		t.Errorf("vocab = %q", tok.vocab)
	}
	if tok.MaxLen() != DefaultMaxLen {
		t.Errorf("MaxLen = %d, want %d", tok.MaxLen(), DefaultMaxLen)
	}
}

func TestTokenizerSaveLoad(t *testing.T) {
	dir := t.TempDir()
	tok := NewTokenizer([]string{PadToken, UnkToken, "임차인", "#임차", "해지"}, 64, bigramAnalyzer{})
	tok.SetAnalyzer("ko-morph+bigram/2")
	if err := tok.Save(dir); err != nil {
		t.Fatal(err)
	}
	vocab, err := os.ReadFile(filepath.Join(dir, VocabFile))
	if err != nil {
		t.Fatal(err)
	}
	if string(vocab) != "[PAD]\n[UNK]\n임차인\n#임차\n해지\n" {
		t.Errorf("vocab.txt = %q", vocab)
	}
	back, err := LoadTokenizer(dir, bigramAnalyzer{})
	if err != nil {
		t.Fatal(err)
	}
	if back.MaxLen() != 64 || back.VocabSize() != 5 || back.Analyzer() != "ko-morph+bigram/2" {
		t.Errorf("loaded max_len %d vocab %d analyzer %q", back.MaxLen(), back.VocabSize(), back.Analyzer())
	}
	for _, text := range []string{"임차인이 해지", "", "임차인 임차인"} {
		if a, b := tok.Encode(text), back.Encode(text); !slices.Equal(a, b) {
			t.Errorf("Encode(%q): saved %v, loaded %v", text, a, b)
		}
	}
}

func TestLoadTokenizerErrors(t *testing.T) {
	write := func(vocab, cfg string) string {
		dir := t.TempDir()
		if vocab != "" {
			os.WriteFile(filepath.Join(dir, VocabFile), []byte(vocab), 0o644)
		}
		if cfg != "" {
			os.WriteFile(filepath.Join(dir, TokenizerFile), []byte(cfg), 0o644)
		}
		return dir
	}
	for name, c := range map[string]struct{ vocab, cfg, want string }{
		"no config":        {"[PAD]\n[UNK]\n", "", TokenizerFile},
		"bad json":         {"[PAD]\n[UNK]\n", "{", TokenizerFile},
		"zero max_len":     {"[PAD]\n[UNK]\n", `{"max_len": 0}`, "max_len"},
		"no vocab":         {"", `{"max_len": 8}`, VocabFile},
		"missing specials": {"보증금\n", `{"max_len": 8}`, "must start with"},
	} {
		_, err := LoadTokenizer(write(c.vocab, c.cfg), bigramAnalyzer{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want one mentioning %q", name, err, c.want)
		}
	}
}

func TestSaveRejectsLineBreakToken(t *testing.T) {
	tok := NewTokenizer([]string{PadToken, UnkToken, "a\nb"}, 8, bigramAnalyzer{})
	if err := tok.Save(t.TempDir()); err == nil {
		t.Error("Save accepted a token with a line break")
	}
}

func TestVocabBuilder(t *testing.T) {
	b := NewVocabBuilder()
	docs := []string{"보증금을 반환", "보증금 반환 청구", "보증금 임대차", "임대차 해지", "반환 반환 반환"}
	for _, d := range docs {
		b.Add(TextTokens(bigramAnalyzer{}, d))
	}
	if b.Docs() != len(docs) {
		t.Errorf("Docs = %d", b.Docs())
	}
	// df: 보증금 3, 반환 3, #보증 3, #증금 3, #반환 3 (a document counts once), 임대차 2, …
	got := b.Vocab(3, 0)
	want := []string{PadToken, UnkToken, "#반환", "#보증", "#증금", "반환", "보증금"}
	if !slices.Equal(got, want) {
		t.Errorf("Vocab(3, 0) = %q, want %q", got, want)
	}
	if got := b.Vocab(3, 4); !slices.Equal(got, want[:4]) {
		t.Errorf("Vocab(3, 4) = %q", got)
	}
	if got := b.Vocab(2, 0); !slices.Contains(got, "임대차") || len(got) <= len(want) {
		t.Errorf("Vocab(2, 0) = %q", got)
	}
}

func FuzzTokenizerEncode(f *testing.F) {
	for _, s := range []string{"집주인이 보증금을 안 돌려줘요", "", "a", "民法 第618條", "\xff\xfe", "요요요요요요요요요요요요", "1. ② 삭제 <2013.8.13>"} {
		f.Add(s)
	}
	vocab := []string{PadToken, UnkToken, "보증금", "#보증", "#요요", "집주인", "a", "#a"}
	tok := NewTokenizer(vocab, 16, bigramAnalyzer{})
	f.Fuzz(func(t *testing.T, text string) {
		ids := tok.Encode(text)
		if len(ids) == 0 || len(ids) > tok.MaxLen() {
			t.Fatalf("Encode(%q) gave %d ids", text, len(ids))
		}
		for _, id := range ids {
			if id <= PadID || int(id) >= tok.VocabSize() {
				t.Fatalf("Encode(%q) gave id %d outside [1, %d)", text, id, tok.VocabSize())
			}
		}
	})
}
