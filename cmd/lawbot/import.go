package main

import (
	"fmt"
	"io"

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
	catalog, err := law.CatalogFor(dataFlag)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	res, err := law.ImportCorpus(from, out, law.ImportOptions{
		Catalog:      catalog,
		OnBad:        func(e *law.ImportError) { fmt.Fprintln(stderr, e) },
		SourcePrefix: prefix,
	})
	if err != nil {
		return err
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
