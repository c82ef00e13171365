// Package ui is LawBot's web app: the Vite build in ui/dist, embedded into the binary and served
// at / by Handler (the GraphiQL page of the same build is served by graph.GraphiQLHandler).
package ui

import (
	"embed"
	"io/fs"
)

// dist holds `npm run build`'s output. A clean clone has only dist/.keep (committed so that this
// embed compiles before the UI is built); the binary then serves a page saying how to build it.
//
//go:embed all:dist
var dist embed.FS

// Dist is the build's output: index.html, graphiql.html and assets/.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // "dist" is a valid path; fs.Sub fails only on invalid ones
	}
	return sub
}

// Built says whether the embedded build has the app (false on a clean clone before make ui).
func Built() bool { return HasFile(Dist(), "index.html") }

// HasFile says whether fsys has a regular file at name.
func HasFile(fsys fs.FS, name string) bool {
	st, err := fs.Stat(fsys, name)
	return err == nil && !st.IsDir()
}
