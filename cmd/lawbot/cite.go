package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/lawbot-kr/lawbot/law"
)

// citeInput is one line of `lawbot cite --jsonl`.
type citeInput struct {
	Raw string `json:"raw"`
	// Home optionally names the law that "이 법" and bare articles refer to.
	Home string `json:"home,omitempty"`
}

// citeOutput answers one input line. Articles are in order of first appearance, without
// duplicates; Unresolved lists those of them that the statute corpus does not hold.
type citeOutput struct {
	Articles   []string `json:"articles"`
	Unresolved []string `json:"unresolved,omitempty"`
	Error      string   `json:"error,omitempty"`
}

func runCite(args []string, stdout, stderr io.Writer) error {
	return runCiteIO(args, os.Stdin, stdout, stderr)
}

func runCiteIO(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("cite", stderr)
	dataFlag := fs.String("data", "", "corpus directory (default $LAWBOT_DATA, else ../shared/data)")
	jsonl := fs.Bool("jsonl", false, `read {"raw": "..."} lines on stdin, write {"articles": [...]} lines`)
	reference := fs.Bool("reference", false, "read input as 참조조문 lists (default: detect per input)")
	prose := fs.Bool("prose", false, "read input as prose (default: detect per input)")
	agreement := fs.Bool("agreement", false, "measure agreement with the precedents' cited_statutes and print the disagreements")
	show := fs.Int("show", 20, "with --agreement: disagreements to print")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	catalog, err := loadCatalog(*dataFlag)
	if err != nil {
		return err
	}
	parser := law.NewCitationParser(catalog)
	mode := law.ModeAuto
	switch {
	case *reference && *prose:
		fmt.Fprintln(stderr, "lawbot cite: --reference and --prose exclude each other")
		return errUsage
	case *reference:
		mode = law.ModeReference
	case *prose:
		mode = law.ModeProse
	}
	switch {
	case *agreement:
		dir, _ := law.ResolveDataDir(*dataFlag)
		return printAgreement(dir, parser, catalog, mode, *show, stdout)
	case *jsonl:
		return citeJSONL(parser, mode, stdin, stdout)
	case fs.NArg() > 0:
		opt := law.ParseOptions{Mode: mode}
		for _, c := range parser.ParseWith(strings.Join(fs.Args(), " "), opt) {
			mark := ""
			if !c.Resolved {
				mark = "\t(not in corpus)"
			}
			fmt.Fprintf(stdout, "%s%s\n", c.ID(), mark)
		}
		return nil
	default:
		fmt.Fprintln(stderr, `usage: lawbot cite [--reference] "민법 제618조, 제623조"  |  lawbot cite --jsonl < in.jsonl  |  lawbot cite --agreement`)
		return errUsage
	}
}

// loadCatalog reads the statute corpus for name mapping and resolution. A corpus that was asked
// for (--data or $LAWBOT_DATA) must be there; otherwise, without one, the parser still works and
// nothing resolves.
func loadCatalog(dataFlag string) (*law.Catalog, error) {
	dir, err := law.ResolveDataDir(dataFlag)
	if err != nil {
		if dataFlag != "" || os.Getenv(law.DataEnv) != "" {
			return nil, err
		}
		return law.NewCatalog(nil), nil
	}
	return law.LoadCatalog(dir)
}

// citeJSONL answers every input line with exactly one output line, so outputs can be zipped
// with inputs; a malformed line gets an error field instead of aborting the stream.
func citeJSONL(parser *law.CitationParser, mode law.Mode, stdin io.Reader, stdout io.Writer) error {
	in := bufio.NewReaderSize(stdin, 1<<20)
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for lineNo := 1; ; lineNo++ {
		line, err := in.ReadBytes('\n')
		if len(strings.TrimSpace(string(line))) > 0 {
			var q citeInput
			res := citeOutput{Articles: []string{}}
			if jerr := json.Unmarshal(line, &q); jerr != nil {
				res.Error = fmt.Sprintf("line %d: invalid JSON: %v", lineNo, jerr)
			} else {
				for _, c := range parser.ParseWith(q.Raw, law.ParseOptions{Mode: mode, HomeLaw: q.Home}) {
					res.Articles = append(res.Articles, c.ID())
					if !c.Resolved {
						res.Unresolved = append(res.Unresolved, c.ID())
					}
				}
			}
			if werr := enc.Encode(res); werr != nil {
				return werr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
