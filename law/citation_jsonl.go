package law

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// CitationRequest is one input line of AnswerJSONL (lawbot cite --jsonl).
type CitationRequest struct {
	Raw string `json:"raw"`
	// Home optionally names the law that "이 법" and bare articles refer to.
	Home string `json:"home,omitempty"`
}

// CitationAnswer answers one input line. Articles are in order of first appearance, without
// duplicates; Unresolved lists those of them that the statute corpus does not hold.
type CitationAnswer struct {
	Articles   []string `json:"articles"`
	Unresolved []string `json:"unresolved,omitempty"`
	Error      string   `json:"error,omitempty"`
}

// AnswerJSONL answers every non-blank CitationRequest line of r with exactly one
// CitationAnswer line on w, so that outputs can be zipped with inputs; a malformed line gets an
// error field instead of aborting the stream.
func (p *CitationParser) AnswerJSONL(r io.Reader, w io.Writer, mode Mode) error {
	in := bufio.NewReaderSize(r, 1<<20)
	out := bufio.NewWriter(w)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for lineNo := 1; ; lineNo++ {
		line, err := in.ReadBytes('\n')
		if len(strings.TrimSpace(string(line))) > 0 {
			var q CitationRequest
			res := CitationAnswer{Articles: []string{}}
			if jerr := json.Unmarshal(line, &q); jerr != nil {
				res.Error = fmt.Sprintf("line %d: invalid JSON: %v", lineNo, jerr)
			} else {
				for _, c := range p.ParseWith(q.Raw, ParseOptions{Mode: mode, HomeLaw: q.Home}) {
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
