package service

import (
	"fmt"

	"github.com/lawbot-kr/lawbot/models"
	"github.com/lawbot-kr/lawbot/search"
)

// MorphemeAnalyzerName is the name the filter records for search.Analyzer's morphemes.
const MorphemeAnalyzerName = search.MorphemeAnalyzerName

// AnalyzerFor gives the analyzer a saved model names. The dictionary loads on the first
// morpheme request, not here, so a character-only model never pays for it.
func AnalyzerFor(name string) (models.MorphemeAnalyzer, error) {
	if name != MorphemeAnalyzerName {
		return nil, fmt.Errorf("unknown morpheme analyzer %q (this lawbot has %q)", name, MorphemeAnalyzerName)
	}
	return lazyAnalyzer{}, nil
}

type lazyAnalyzer struct{}

func (lazyAnalyzer) Morphemes(text string) []string { return search.DefaultAnalyzer().Morphemes(text) }
