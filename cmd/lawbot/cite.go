package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/lawbot-kr/lawbot/law"
)

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
	catalog, err := law.CatalogFor(*dataFlag)
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
		return parser.AnswerJSONL(stdin, stdout, mode)
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
