package law

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
)

// Corpus file names inside a data directory.
const (
	StatutesFile = "statutes.jsonl"
	QAFile       = "qa.jsonl"
	// PrecedentsGlob matches both precedent files (civil and criminal are split for size).
	PrecedentsGlob = "precedents*.jsonl"
)

// LineError is one malformed record: reported as "file:line: reason", skipped and counted.
type LineError struct {
	File   string
	Line   int
	Reason string
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason) }

// ReadOptions tunes a streaming read.
type ReadOptions struct {
	// OnBad receives each malformed line. When nil, the first one aborts the read.
	OnBad func(*LineError)
	// OnProgress receives the number of bytes consumed so far, for progress bars.
	OnProgress func(n int64)
}

// Validator is implemented by records that can tell whether they are usable.
type Validator interface{ Validate() error }

// Validate reports a statute without its identity.
func (s *Statute) Validate() error {
	switch {
	case s.Law == "":
		return errors.New("missing law")
	case s.Article == "":
		return errors.New("missing article")
	}
	return nil
}

// Validate reports a precedent without a case number.
func (p *Precedent) Validate() error {
	if p.CaseNo == "" {
		return errors.New("missing case_no")
	}
	return nil
}

// Validate reports a Q&A pair without question or answer.
func (q *QA) Validate() error {
	switch {
	case q.Question == "":
		return errors.New("missing question")
	case q.Answer == "":
		return errors.New("missing answer")
	}
	return nil
}

// ReadJSONL streams the records of one JSON Lines file to fn, one at a time, so a 90 MB file
// never sits in memory twice. Blank lines are ignored. fn's error stops the read.
func ReadJSONL[T any, PT interface {
	*T
	Validator
}](path string, opt ReadOptions, fn func(rec PT) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return DecodeJSONL[T, PT](f, filepath.Base(path), opt, fn)
}

// DecodeJSONL is ReadJSONL over any reader; name labels errors.
func DecodeJSONL[T any, PT interface {
	*T
	Validator
}](r io.Reader, name string, opt ReadOptions, fn func(rec PT) error) error {
	br := bufio.NewReaderSize(r, 1<<20)
	var consumed int64
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadBytes('\n')
		consumed += int64(len(line))
		if trimmed := bytes.TrimSpace(line); len(trimmed) > 0 {
			rec := PT(new(T))
			perr := json.Unmarshal(trimmed, rec)
			if perr == nil {
				perr = rec.Validate()
			}
			if perr != nil {
				le := &LineError{File: name, Line: lineNo, Reason: shortReason(perr)}
				if opt.OnBad == nil {
					return le
				}
				opt.OnBad(le)
			} else if ferr := fn(rec); ferr != nil {
				return ferr
			}
		}
		if opt.OnProgress != nil {
			opt.OnProgress(consumed)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s:%d: %w", name, lineNo, err)
		}
	}
}

func shortReason(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, err)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %q: want %s, got %s", te.Field, te.Type, te.Value)
	}
	return err.Error()
}

// PrecedentFiles lists the precedent files of a data directory in a stable order.
func PrecedentFiles(dataDir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dataDir, PrecedentsGlob))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	return files, nil
}
