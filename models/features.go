package models

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MorphemeAnalyzer splits Korean text into content morphemes (nouns, verb and adjective stems,
// 어근). search.Analyzer satisfies it; tests pass a tiny fake so they need no 200 MB dictionary.
// The filter calls it from several goroutines while training, so it must be safe for that.
type MorphemeAnalyzer interface {
	Morphemes(text string) []string
}

// FeatureConfig says how a text becomes features. It is saved with the model, because a model
// only means something over the exact features it was trained on.
type FeatureConfig struct {
	// CharNGramMin and CharNGramMax bound the character n-grams taken over the normalised text.
	// Character n-grams need no dictionary and survive the spelling and spacing of chat
	// (띄어쓰기 errors, 줄임말) that a morpheme analyzer stumbles on.
	CharNGramMin int `json:"char_ngram_min"`
	CharNGramMax int `json:"char_ngram_max"`
	// Morphemes names the analyzer whose morpheme unigrams and bigrams are features, e.g.
	// "kagome-ko"; empty means none. The name is recorded so that a model is never served with
	// morphemes from a different analyzer than it learned.
	Morphemes string `json:"morphemes,omitempty"`
	// HashBits is log2 of the number of weights: features are hashed, so the vocabulary is
	// never stored and unseen words cost nothing.
	HashBits int `json:"hash_bits"`
}

// DefaultFeatureConfig is character 1–3-grams and the morphemes of the named analyzer ("" for
// none) over 2^20 weights.
func DefaultFeatureConfig(analyzer string) FeatureConfig {
	return FeatureConfig{CharNGramMin: 1, CharNGramMax: 3, Morphemes: analyzer, HashBits: 20}
}

func (c FeatureConfig) validate() error {
	switch {
	case c.CharNGramMin < 1 || c.CharNGramMax < c.CharNGramMin || c.CharNGramMax > 8:
		return fmt.Errorf("character n-grams %d–%d: want 1 ≤ min ≤ max ≤ 8", c.CharNGramMin, c.CharNGramMax)
	case c.HashBits < 8 || c.HashBits > 26:
		return fmt.Errorf("hash bits %d: want 8–26", c.HashBits)
	}
	return nil
}

// Feature kinds keep a character n-gram and a morpheme with the same spelling apart.
const (
	kindChar           byte = 'c'
	kindMorpheme       byte = 'm'
	kindMorphemeBigram byte = 'b'
)

// featureSpace turns text into sparse feature vectors. The same value serves training and
// scoring, so the two can never drift apart.
type featureSpace struct {
	cfg   FeatureConfig
	morph MorphemeAnalyzer // nil when cfg.Morphemes is empty
}

func newFeatureSpace(cfg FeatureConfig, morph MorphemeAnalyzer) (featureSpace, error) {
	if err := cfg.validate(); err != nil {
		return featureSpace{}, err
	}
	if cfg.Morphemes != "" && morph == nil {
		return featureSpace{}, fmt.Errorf("features use the morphemes of %q but no analyzer was given", cfg.Morphemes)
	}
	if cfg.Morphemes == "" {
		morph = nil
	}
	return featureSpace{cfg: cfg, morph: morph}, nil
}

// sparseVector holds feature indices in increasing order and their values; it has unit length.
type sparseVector struct {
	idx []uint32
	val []float32
}

// normalizeText is what every feature sees: lower case, every digit 0 (amounts and dates vary,
// "600만원" and "30만원" mean the same to the filter) and runs of white space as one space.
func normalizeText(text string) string {
	var b strings.Builder
	b.Grow(len(text))
	space := false
	for _, r := range text {
		switch {
		case r == utf8.RuneError:
			continue
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case unicode.IsDigit(r):
			r = '0'
		default:
			r = unicode.ToLower(r)
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// each calls emit for every feature occurrence of text, in a fixed order.
func (s featureSpace) each(text string, emit func(kind byte, a, b string)) {
	norm := normalizeText(text)
	if norm == "" {
		return
	}
	// Spaces around the text make word starts and ends n-grams of their own.
	padded := " " + norm + " "
	starts := make([]int, 0, len(padded)+1)
	for i := range padded {
		starts = append(starts, i)
	}
	starts = append(starts, len(padded))
	runes := len(starts) - 1
	for n := s.cfg.CharNGramMin; n <= s.cfg.CharNGramMax; n++ {
		for i := 0; i+n <= runes; i++ {
			gram := padded[starts[i]:starts[i+n]]
			if strings.TrimSpace(gram) == "" {
				continue
			}
			emit(kindChar, gram, "")
		}
	}
	if s.morph == nil {
		return
	}
	prev := ""
	for _, m := range s.morph.Morphemes(norm) {
		if m == "" {
			continue
		}
		emit(kindMorpheme, m, "")
		if prev != "" {
			emit(kindMorphemeBigram, prev, m)
		}
		prev = m
	}
}

// vector is text's feature vector: hashed, each feature weighted 1+log(count), scaled to unit
// length so that a long question and a short one score on the same scale.
func (s featureSpace) vector(text string) sparseVector {
	mask := uint32(1)<<s.cfg.HashBits - 1
	var hashes []uint32
	s.each(text, func(kind byte, a, b string) {
		hashes = append(hashes, uint32(featureHash(kind, a, b))&mask)
	})
	if len(hashes) == 0 {
		return sparseVector{}
	}
	slices.Sort(hashes)
	v := sparseVector{idx: make([]uint32, 0, len(hashes)), val: make([]float32, 0, len(hashes))}
	var norm float64
	for i := 0; i < len(hashes); {
		j := i + 1
		for j < len(hashes) && hashes[j] == hashes[i] {
			j++
		}
		x := 1 + math.Log(float64(j-i))
		v.idx = append(v.idx, hashes[i])
		v.val = append(v.val, float32(x))
		norm += x * x
		i = j
	}
	scale := float32(1 / math.Sqrt(norm))
	for i := range v.val {
		v.val[i] *= scale
	}
	return v
}

// featureHash is 64-bit FNV-1a over kind, a, a separator and b, computed without building the
// concatenated string.
func featureHash(kind byte, a, b string) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	h = (h ^ uint64(kind)) * prime
	for i := 0; i < len(a); i++ {
		h = (h ^ uint64(a[i])) * prime
	}
	if b != "" {
		h *= prime // a 0 byte between the two parts
		for i := 0; i < len(b); i++ {
			h = (h ^ uint64(b[i])) * prime
		}
	}
	return h
}

// featureName renders a feature for people, e.g. `c:"보증"` or `b:"보증금+반환"`.
func featureName(kind byte, a, b string) string {
	if b != "" {
		return fmt.Sprintf("%c:%q", kind, a+"+"+b)
	}
	return fmt.Sprintf("%c:%q", kind, a)
}
