package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/lawbot-kr/lawbot/internal/atomicfile"
	"github.com/lawbot-kr/lawbot/law"
)

// runImport converts git checkouts of legalize-kr and precedent-kr into corpus JSONL, which is
// how a user with network access builds the full corpus instead of the shared sample.
func runImport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("import", stderr)
	from := fs.String("from-markdown", "", "`DIR` holding a legalize-kr and/or precedent-kr checkout")
	out := fs.String("out", "", "`DIR` to write statutes.jsonl and precedents.jsonl into")
	data := fs.String("data", "", "corpus `DIR` whose statutes also resolve citations (default $LAWBOT_DATA, else ../shared/data when present)")
	prefix := fs.String("source-prefix", "", "text put before each file's path in the source field, e.g. legalize-kr/legalize-kr@874b58594654/")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *from == "" || *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: lawbot import --from-markdown DIR --out DIR [--data DIR]")
		return errUsage
	}

	return importMarkdown(*from, *out, *data, *prefix, stdout, stderr)
}

// importMarkdown converts the checkouts under from into corpus JSONL files in out.
func importMarkdown(from, out, dataFlag, prefix string, stdout, stderr io.Writer) error {
	// Citations to laws outside the checkout (a precedent-kr clone alone) still resolve against
	// the corpus statutes; without a corpus only the imported laws are known.
	catalog, err := loadCatalog(dataFlag)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	// Precedents stream into their file as they are parsed: a full precedent-kr has 120k.
	precs, err := newAtomicJSONL(filepath.Join(out, "precedents.jsonl"))
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer precs.abort()
	res, err := law.ImportMarkdown(from, law.ImportOptions{
		Catalog:      catalog,
		OnBad:        func(e *law.ImportError) { fmt.Fprintln(stderr, e) },
		OnPrecedent:  func(p *law.Precedent) error { return precs.write(p) },
		SourcePrefix: prefix,
	})
	if err != nil {
		return err
	}
	if len(res.Statutes) == 0 && res.PrecFiles == 0 {
		return fmt.Errorf("import: no law or precedent files under %s (%d unusable)", from, res.Bad)
	}

	stats, err := newAtomicJSONL(filepath.Join(out, law.StatutesFile))
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer stats.abort()
	for i := range res.Statutes {
		if err := stats.write(&res.Statutes[i]); err != nil {
			return fmt.Errorf("import: %w", err)
		}
	}
	if err := stats.commit(); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	if err := precs.commit(); err != nil {
		return fmt.Errorf("import: %w", err)
	}

	fmt.Fprintf(stdout, "imported %d articles of %d laws and %d precedents into %s", len(res.Statutes), res.LawFiles, res.PrecFiles, out)
	if res.Superseded > 0 {
		fmt.Fprintf(stdout, "; %d older law files superseded", res.Superseded)
	}
	if n := len(res.EmptyArticles); n > 0 {
		fmt.Fprintf(stdout, "; %d articles with an empty body dropped", n)
	}
	if res.Bad > 0 {
		fmt.Fprintf(stdout, "; %d files skipped (listed on stderr)", res.Bad)
	}
	fmt.Fprintln(stdout)
	return nil
}

// atomicJSONL writes JSON Lines through an atomic file, so a crash or a bad import never
// leaves a half-written corpus file behind.
type atomicJSONL struct {
	f    *atomicfile.File
	w    *bufio.Writer
	enc  *json.Encoder
	done bool
}

func newAtomicJSONL(path string) (*atomicJSONL, error) {
	f, err := atomicfile.Create(path)
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // keep "<개정 2013.8.13>" readable, as in the shared corpus
	return &atomicJSONL{f: f, w: w, enc: enc}, nil
}

func (a *atomicJSONL) write(v any) error { return a.enc.Encode(v) }

func (a *atomicJSONL) commit() error {
	if err := a.w.Flush(); err != nil {
		a.f.Abort()
		return fmt.Errorf("write %s: %w", a.f.Path(), err)
	}
	a.done = true
	return a.f.Commit()
}

// abort removes the temporary file unless commit ran.
func (a *atomicJSONL) abort() {
	if !a.done {
		a.f.Abort()
	}
}
