package advice

import (
	"context"

	"github.com/lawbot-kr/lawbot/lookup"
)

// verifyCitations is the last stage: every article the answer mentions is parsed with the
// citation parser and looked up in the statute corpus; unknown ones are kept, marked unresolved.
type verifyCitations struct {
	corpus *Retriever
}

func (verifyCitations) Name() StageName { return StageCitations }

func (s verifyCitations) Run(_ context.Context, req *Request) error {
	if a := req.Result.Answer; a != nil {
		a.Citations = s.verify(a.Text)
	}
	return nil
}

func (s verifyCitations) verify(text string) []VerifiedCitation {
	var out []VerifiedCitation
	for _, c := range s.corpus.Parser.Parse(text) {
		v := VerifiedCitation{ID: c.ID(), Resolved: c.Resolved}
		if a := lookup.New(s.corpus.State).Article(c.ID()); a.InCorpus {
			v.Statute, v.Resolved = a.Statute, true
		}
		out = append(out, v)
	}
	return out
}
