package main

import (
	"fmt"
	"io"

	"github.com/lawbot-kr/lawbot/advice"
	"github.com/lawbot-kr/lawbot/search"
	"github.com/lawbot-kr/lawbot/state"
)

// loadRetriever loads a state, its indexes and the analyzer, reporting what each cost.
func loadRetriever(stateDir string, stderr io.Writer) (*advice.Retriever, error) {
	st, err := state.Load(stateDir)
	if err != nil {
		return nil, err
	}
	ix, err := advice.LoadIndexes(st)
	if err != nil {
		return nil, err
	}
	return newRetriever(st, ix, stderr), nil
}

// newRetriever wires a loaded state and its indexes with the analyzer.
func newRetriever(st *state.State, ix *advice.Indexes, stderr io.Writer) *advice.Retriever {
	a := search.DefaultAnalyzer()
	fmt.Fprintf(stderr, "loaded %s; dictionary %.1fs, %d MB\n", st.Dir, a.LoadTime.Seconds(), a.LoadBytes>>20)
	return advice.NewRetriever(st, ix, a)
}
