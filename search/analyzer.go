package search

import (
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	ko "github.com/ikawaha/kagome-dict-ko"
	"github.com/ikawaha/kagome/v2/tokenizer"

	"github.com/lawbot-kr/lawbot/internal/textnorm"
)

// Analyzer turns Korean text into index terms: content morphemes from kagome with the
// mecab-ko-dic dictionary, and character bigrams as a side field for the words the dictionary
// splits badly. It is safe for concurrent use.
type Analyzer struct {
	tok *tokenizer.Tokenizer
	// LoadTime and LoadBytes are what loading the dictionary cost (heap growth).
	LoadTime  time.Duration
	LoadBytes uint64
}

var (
	defaultOnce     sync.Once
	defaultAnalyzer *Analyzer
)

// DefaultAnalyzer returns the process-wide analyzer, loading the dictionary (about 3 s and
// 200 MB) on first use only.
func DefaultAnalyzer() *Analyzer {
	defaultOnce.Do(func() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		t, err := tokenizer.New(ko.Dict(), tokenizer.OmitBosEos())
		if err != nil {
			// The dictionary is compiled into the binary: failing here is a broken build.
			panic("search: load kagome-dict-ko: " + err.Error())
		}
		a := &Analyzer{tok: t, LoadTime: time.Since(start)}
		runtime.GC() // count what the dictionary keeps, not the garbage of loading it
		runtime.ReadMemStats(&after)
		if after.HeapAlloc > before.HeapAlloc {
			a.LoadBytes = after.HeapAlloc - before.HeapAlloc
		}
		defaultAnalyzer = a
	})
	return defaultAnalyzer
}

// hanjaGlossRe matches a parenthesised 한자 gloss such as "(賃借人)".
var hanjaGlossRe = regexp.MustCompile(`\(\s*[\p{Han}·ㆍ,\s]+\)`)

// Normalize folds widths, drops 한자 glosses after Korean words ("임차인(賃借人)") and lowercases
// Latin letters, so that index and queries meet on one form.
func Normalize(text string) string {
	text = textnorm.Width(text)
	if strings.Contains(text, "(") {
		text = hanjaGlossRe.ReplaceAllString(text, "")
	}
	return strings.ToLower(text)
}

// Morphemes returns the content morphemes of text: nouns (compound nouns whole and in parts),
// verb and adjective stems, 어근, foreign words and 한자; particles, endings and symbols are
// dropped.
func (a *Analyzer) Morphemes(text string) []string {
	text = Normalize(text)
	var out []string
	latinEnd := -1 // rune offset where the last Latin word ended, to rejoin split words
	for _, t := range a.tok.Tokenize(text) {
		// The dictionary splits Latin words before their last letter ("covid" → covi, d);
		// glue the pieces back together.
		if pos := t.POS(); len(pos) > 0 && pos[0] == "SL" {
			if t.Start == latinEnd && len(out) > 0 {
				out[len(out)-1] += t.Surface
			} else {
				out = append(out, t.Surface)
			}
			latinEnd = t.End
			continue
		}
		out = appendMorphemes(out, t)
	}
	return out
}

// AnalyzerVersion names the analysis that indexes are built with: an index built by another
// version is stale, since its terms would no longer meet the queries'.
const AnalyzerVersion = "ko-morph+bigram/2"

// MorphemeAnalyzerName is the name a model (the legal-question filter) records for this
// analyzer's morphemes, so that it is never served with another analyzer's.
const MorphemeAnalyzerName = "kagome-ko"

func appendMorphemes(out []string, t tokenizer.Token) []string {
	f := t.Features()
	if len(f) == 0 {
		return out
	}
	pos := f[0]
	first := pos
	if i := strings.IndexByte(pos, '+'); i >= 0 {
		first = pos[:i]
	}
	switch first {
	case "NNG", "NNP", "XR", "SH":
		if !stopNouns[t.Surface] {
			out = append(out, t.Surface)
		}
		// A compound noun ("주민등록") also yields its parts, so "등록" finds it.
		if len(f) > 7 && f[4] == "Compound" {
			for _, part := range strings.Split(f[7], "+") {
				if w, _, ok := strings.Cut(part, "/"); ok && w != t.Surface && utf8.RuneCountInString(w) > 1 {
					out = append(out, w)
				}
			}
		}
	case "VV", "VA":
		// An inflected form ("돌려") carries its stem in the expression ("돌리/VV/*+어/EC/*").
		stem := t.Surface
		if len(f) > 7 && f[7] != "*" {
			if w, _, ok := strings.Cut(f[7], "/"); ok {
				stem = w
			}
		}
		if !stopStems[stem] {
			out = append(out, stem)
		}
	}
	return out
}

// stopNouns and stopStems are content words so common in every legal text that they only add
// cost to a query.
var (
	stopNouns = map[string]bool{"것": true, "수": true, "등": true, "때": true, "바": true, "중": true, "경우": true}
	stopStems = map[string]bool{"하": true, "되": true, "있": true, "없": true, "이": true, "않": true, "같": true}
)

// Bigrams returns the character bigrams of text with spacing removed, so that "주택 임대차" and
// "주택임대차" give the same terms; a lone character run of one yields itself.
func (a *Analyzer) Bigrams(text string) []string { return Bigrams(Normalize(text)) }

// Bigrams is the dictionary-free part of the analyzer, over already normalised text.
func Bigrams(text string) []string {
	var out []string
	var run []rune
	flush := func() {
		switch {
		case len(run) == 1:
			out = append(out, string(run))
		case len(run) > 1:
			for i := 0; i+1 < len(run); i++ {
				out = append(out, string(run[i:i+2]))
			}
		}
		run = run[:0]
	}
	for _, r := range text {
		switch {
		case unicode.IsSpace(r):
			// Spacing is not a word boundary in Korean legal text: keep the run going.
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			run = append(run, r)
		default:
			flush()
		}
	}
	flush()
	return out
}
