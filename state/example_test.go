package state_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/lawbot-kr/lawbot/state"
)

// Ingest the corpus once, then load the state as the server does.
func Example() {
	dir, _ := os.MkdirTemp("", "lawbot-state")
	defer os.RemoveAll(dir)

	rep, err := state.Ingest(state.IngestOptions{DataDir: filepath.Join("testdata", "corpus"), StateDir: dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("added %d statutes, %d precedents; skipped %d bad lines\n",
		rep.Statutes.Added, rep.Precedents.Added, rep.BadLines)

	st, err := state.Load(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range st.Graph.PrecedentsCiting("민법 제618조", 2) {
		fmt.Println(p.CaseNo, p.Date)
	}
	// Output:
	// added 6 statutes, 11 precedents; skipped 2 bad lines
	// 2025다210005, 210006 2025-06-12
	// 2024다293580 2025-05-01
}
