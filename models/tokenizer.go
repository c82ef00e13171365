package models

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lawbot-kr/lawbot/internal/atomicfile"
)

// The tokeniser is the one way text becomes token ids for the TensorFlow models: the training
// export (lawbot train export) writes ids made by it and the server encodes questions with it,
// so training and serving can never tokenise differently.
const (
	// PadToken (id 0) pads a batch; the models mask it out. UnkToken (id 1) stands for every
	// token outside the vocabulary.
	PadToken = "[PAD]"
	UnkToken = "[UNK]"
	PadID    = int32(0)
	UnkID    = int32(1)
	// DefaultMaxLen is the longest id sequence Encode returns unless told otherwise.
	DefaultMaxLen = 256
	// VocabFile (line i = the token of id i) and TokenizerFile (TokenizerConfig) are the
	// tokeniser's files inside a model or export directory.
	VocabFile     = "vocab.txt"
	TokenizerFile = "tokenizer.json"
	// BigramPrefix marks character-bigram tokens so that they never meet a two-syllable
	// morpheme, as in the lexical index.
	BigramPrefix = "#"
)

// MorphemeBigrammer splits text into content morphemes and character bigrams. search.Analyzer
// satisfies it; tests pass a tiny fake. It must be safe for concurrent use.
type MorphemeBigrammer interface {
	Morphemes(text string) []string
	Bigrams(text string) []string
}

// TokenizerConfig is tokenizer.json.
type TokenizerConfig struct {
	MaxLen int `json:"max_len"`
	// Analyzer names the analysis the vocabulary was built with (search.AnalyzerVersion): ids
	// only mean something over the same morphemes.
	Analyzer string `json:"analyzer"`
}

// Tokenizer maps text to token ids over a fixed vocabulary. It is safe for concurrent use.
type Tokenizer struct {
	vocab    []string
	ids      map[string]int32
	maxLen   int
	analyzer string
	a        MorphemeBigrammer
}

// NewTokenizer builds a tokeniser over vocab (id i = vocab[i]). The vocabulary must start with
// [PAD] and [UNK]; one that does not gets them put in front. maxLen ≤ 0 means DefaultMaxLen.
// A token listed twice keeps its first id.
func NewTokenizer(vocab []string, maxLen int, a MorphemeBigrammer) *Tokenizer {
	if len(vocab) < 2 || vocab[0] != PadToken || vocab[1] != UnkToken {
		vocab = append([]string{PadToken, UnkToken}, vocab...)
	}
	if maxLen <= 0 {
		maxLen = DefaultMaxLen
	}
	t := &Tokenizer{vocab: slices.Clone(vocab), ids: make(map[string]int32, len(vocab)), maxLen: maxLen, a: a}
	for i, tok := range t.vocab {
		if _, dup := t.ids[tok]; !dup {
			t.ids[tok] = int32(i)
		}
	}
	return t
}

// LoadTokenizer reads DIR/vocab.txt and DIR/tokenizer.json.
func LoadTokenizer(dir string, a MorphemeBigrammer) (*Tokenizer, error) {
	data, err := os.ReadFile(filepath.Join(dir, TokenizerFile))
	if err != nil {
		return nil, fmt.Errorf("load tokenizer: %w", err)
	}
	var cfg TokenizerConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("load tokenizer: %s: %w", TokenizerFile, err)
	}
	if cfg.MaxLen <= 0 {
		return nil, fmt.Errorf("load tokenizer: %s: max_len %d, want > 0", TokenizerFile, cfg.MaxLen)
	}
	vocab, err := readVocab(filepath.Join(dir, VocabFile))
	if err != nil {
		return nil, fmt.Errorf("load tokenizer: %w", err)
	}
	if len(vocab) < 2 || vocab[0] != PadToken || vocab[1] != UnkToken {
		return nil, fmt.Errorf("load tokenizer: %s must start with %s and %s", VocabFile, PadToken, UnkToken)
	}
	t := NewTokenizer(vocab, cfg.MaxLen, a)
	t.analyzer = cfg.Analyzer
	return t, nil
}

func readVocab(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var vocab []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		vocab = append(vocab, sc.Text())
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return vocab, nil
}

// Save writes vocab.txt and tokenizer.json into dir (created if needed), each atomically.
func (t *Tokenizer) Save(dir string) error {
	for _, tok := range t.vocab {
		if strings.ContainsAny(tok, "\r\n") {
			return fmt.Errorf("save tokenizer: token %q holds a line break", tok)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save tokenizer: %w", err)
	}
	var b strings.Builder
	for _, tok := range t.vocab {
		b.WriteString(tok)
		b.WriteByte('\n')
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, VocabFile), []byte(b.String())); err != nil {
		return fmt.Errorf("save tokenizer: %w", err)
	}
	cfg, err := json.MarshalIndent(TokenizerConfig{MaxLen: t.maxLen, Analyzer: t.analyzer}, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, TokenizerFile), append(cfg, '\n')); err != nil {
		return fmt.Errorf("save tokenizer: %w", err)
	}
	return nil
}

// SetAnalyzer records the analysis the vocabulary was built with (search.AnalyzerVersion).
func (t *Tokenizer) SetAnalyzer(version string) { t.analyzer = version }

// Analyzer is the analysis the vocabulary was built with, as recorded in tokenizer.json; a
// server should refuse a tokeniser built with another one.
func (t *Tokenizer) Analyzer() string { return t.analyzer }

// VocabSize is the number of ids, [PAD] and [UNK] included.
func (t *Tokenizer) VocabSize() int { return len(t.vocab) }

// MaxLen is the longest sequence Encode returns.
func (t *Tokenizer) MaxLen() int { return t.maxLen }

// Token is the token of id, "" when out of range.
func (t *Tokenizer) Token(id int32) string {
	if id < 0 || int(id) >= len(t.vocab) {
		return ""
	}
	return t.vocab[id]
}

// ID is the id of a token, UnkID when the vocabulary lacks it.
func (t *Tokenizer) ID(token string) int32 {
	if id, ok := t.ids[token]; ok {
		return id
	}
	return UnkID
}

// Encode turns text into ids: its morphemes, then "#" + each character bigram, unknown tokens
// as UnkID, cut at MaxLen. It is never empty: a text without tokens gives [UnkID].
func (t *Tokenizer) Encode(text string) []int32 {
	return t.EncodeTokens(TextTokens(t.a, text))
}

// EncodeTokens maps tokens (as TextTokens gives them) to ids, cut at MaxLen; never empty.
func (t *Tokenizer) EncodeTokens(tokens []string) []int32 {
	n := min(len(tokens), t.maxLen)
	if n == 0 {
		return []int32{UnkID}
	}
	out := make([]int32, n)
	for i, tok := range tokens[:n] {
		out[i] = t.ID(tok)
	}
	return out
}

// TextTokens is the token sequence Encode maps to ids, uncut: the morphemes of text, then its
// character bigrams with BigramPrefix. The export builds the vocabulary from it.
func TextTokens(a MorphemeBigrammer, text string) []string {
	morphemes, bigrams := TokenParts(a, text)
	return append(morphemes, bigrams...)
}

// TokenParts is TextTokens in its two parts: the morphemes, and the bigrams with BigramPrefix.
func TokenParts(a MorphemeBigrammer, text string) (morphemes, bigrams []string) {
	morphemes = slices.DeleteFunc(a.Morphemes(text), badToken)
	grams := a.Bigrams(text)
	bigrams = make([]string, 0, len(grams))
	for _, g := range grams {
		if !badToken(g) {
			bigrams = append(bigrams, BigramPrefix+g)
		}
	}
	return morphemes, bigrams
}

// badToken is a token Encode skips: an empty one, or one with a line break, which vocab.txt could
// not hold (the analyzer never makes one from normalised text, but a fake or a future one might).
func badToken(s string) bool { return s == "" || strings.ContainsAny(s, "\r\n") }

// VocabBuilder counts document frequencies to choose a vocabulary.
type VocabBuilder struct {
	df   map[string]int
	docs int
}

// NewVocabBuilder starts an empty count.
func NewVocabBuilder() *VocabBuilder { return &VocabBuilder{df: map[string]int{}} }

// Add counts one document's tokens (each distinct token once).
func (b *VocabBuilder) Add(tokens []string) {
	b.docs++
	seen := make(map[string]struct{}, len(tokens))
	for _, tok := range tokens {
		if _, ok := seen[tok]; ok {
			continue
		}
		seen[tok] = struct{}{}
		b.df[tok]++
	}
}

// Docs is the number of documents counted.
func (b *VocabBuilder) Docs() int { return b.docs }

// Vocab returns [PAD], [UNK], then the tokens in at least minDF documents, most frequent first
// (ties by token), at most maxSize ids in all (maxSize ≤ 0: no limit).
func (b *VocabBuilder) Vocab(minDF, maxSize int) []string {
	type entry struct {
		tok string
		df  int
	}
	var entries []entry
	for tok, df := range b.df {
		if df >= minDF && tok != PadToken && tok != UnkToken {
			entries = append(entries, entry{tok, df})
		}
	}
	slices.SortFunc(entries, func(x, y entry) int {
		if c := cmp.Compare(y.df, x.df); c != 0 {
			return c
		}
		return strings.Compare(x.tok, y.tok)
	})
	vocab := []string{PadToken, UnkToken}
	for _, e := range entries {
		if maxSize > 0 && len(vocab) >= maxSize {
			break
		}
		vocab = append(vocab, e.tok)
	}
	return vocab
}
