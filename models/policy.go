package models

import (
	"github.com/lawbot-kr/lawbot/gpu"
)

// Names of LawBot's models in the residency manager, in `lawbot models` and in /metrics.
const (
	EncoderModelName = "encoder"
	TaggerModelName  = "tagger"
	FilterModelName  = "filter"
	LSAModelName     = "lsa"
)

// Placement is one of LawBot's models and where the residency manager keeps it.
type Placement struct {
	Name    string
	Backend string // gpu.BackendGo or gpu.BackendTensorFlow
	// Resident models are loaded at start and never evicted; the others are loaded on first
	// use, released after the idle timeout and evicted under the budget.
	Resident bool
	// StandsInFor names the model this one replaces when that one cannot serve: the model is
	// used (and kept as Resident says) only then, and is otherwise not in use at all.
	StandsInFor string
	// Path is where the model lives in a state directory.
	Path func(stateDir string) string
	// Why is the reason for the placement, for people.
	Why string
}

// Policy is the residency policy, the one table of which model is resident and which is
// loaded on demand. The rule is the design's: a model used on every request stays resident;
// one used now and then is loaded when needed and gives its memory back when idle.
var Policy = []Placement{
	{Name: EncoderModelName, Backend: gpu.BackendTensorFlow, Resident: true,
		Path: func(dir string) string { return SavedModelDir(dir, EncoderModelName) },
		Why:  "embeds the query of every request"},
	{Name: GeneratorModelName, Backend: gpu.BackendTensorFlow, Resident: true,
		Path: func(dir string) string { return SavedModelDir(dir, GeneratorModelName) },
		Why:  "writes generated answers; a language model loads in seconds, too long for a question to wait"},
	{Name: TaggerModelName, Backend: gpu.BackendTensorFlow,
		Path: func(dir string) string { return SavedModelDir(dir, TaggerModelName) },
		Why:  "scores articles only when the ranking gives it weight (--tagger on)"},
	{Name: FilterModelName, Backend: gpu.BackendGo, Path: FilterPath,
		Why: "a few MB, loaded in milliseconds"},
	{Name: LSAModelName, Backend: gpu.BackendGo, Resident: true, StandsInFor: EncoderModelName, Path: LSAPath,
		Why: "embeds the query of every request when the trained encoder does not serve"},
}

// PlacementOf returns the policy's placement of the named model.
func PlacementOf(name string) (Placement, bool) {
	for _, p := range Policy {
		if p.Name == name {
			return p, true
		}
	}
	return Placement{}, false
}
