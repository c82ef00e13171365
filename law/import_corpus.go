package law

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lawbot-kr/lawbot/internal/atomicfile"
)

// ImportCorpus converts the legalize-kr / precedent-kr checkouts under from into corpus JSONL
// files in out (StatutesFile and precedents.jsonl), each written atomically: a failed import
// leaves the previous files as they were, and a checkout of one repository leaves the other
// kind's file alone (a legalize-kr pull does not empty the precedents). ImportCorpus sets opt.OnPrecedent itself. The
// errors of ImportMarkdown come back as they are, the others with "import: " before them.
func ImportCorpus(from, out string, opt ImportOptions) (*ImportResult, error) {
	fail := func(err error) (*ImportResult, error) { return nil, fmt.Errorf("import: %w", err) }
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fail(err)
	}
	// Precedents stream into their file as they are parsed: a full precedent-kr has 120k.
	precs, err := newAtomicJSONL(filepath.Join(out, "precedents.jsonl"))
	if err != nil {
		return fail(err)
	}
	defer precs.abort()
	opt.OnPrecedent = func(p *Precedent) error { return precs.write(p) }
	res, err := ImportMarkdown(from, opt)
	if err != nil {
		return nil, err
	}
	if len(res.Statutes) == 0 && res.PrecFiles == 0 {
		return fail(fmt.Errorf("no law or precedent files under %s (%d unusable)", from, res.Bad))
	}

	if len(res.Statutes) > 0 {
		stats, err := newAtomicJSONL(filepath.Join(out, StatutesFile))
		if err != nil {
			return fail(err)
		}
		defer stats.abort()
		for i := range res.Statutes {
			if err := stats.write(&res.Statutes[i]); err != nil {
				return fail(err)
			}
		}
		if err := stats.commit(); err != nil {
			return fail(err)
		}
	}
	if res.PrecFiles > 0 {
		if err := precs.commit(); err != nil {
			return fail(err)
		}
	}
	return res, nil
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
