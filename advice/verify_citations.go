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
		a.Citations = s.verify(a.Text, a.Evidence)
		s.flag(a)
	}
	return nil
}

// verify checks each article the text cites: in the corpus, and — when the answer was
// generated from evidence — among the articles quoted to the model. Only a citation passing
// both counts as resolved; nothing unchecked is shown as checked.
func (s verifyCitations) verify(text string, evidence map[string]bool) []VerifiedCitation {
	var out []VerifiedCitation
	corpus := lookup.New(s.corpus.State)
	for _, c := range s.corpus.Parser.Parse(text) {
		v := VerifiedCitation{ID: c.ID(), Resolved: c.Resolved, InEvidence: evidence == nil}
		if a := corpus.Article(c.ID()); a.InCorpus {
			v.Statute, v.Resolved = a.Statute, true
			v.ID = a.Statute.ID()
		}
		if evidence != nil {
			v.InEvidence = evidence[v.ID]
			v.Resolved = v.Resolved && v.InEvidence
		}
		out = append(out, v)
	}
	return out
}

// flag marks each sentence that cites an article the check did not resolve.
func (s verifyCitations) flag(a *Answer) {
	unresolved := map[string]bool{}
	for _, c := range a.Citations {
		if !c.Resolved {
			unresolved[c.ID] = true
		}
	}
	if len(unresolved) == 0 {
		return
	}
	for i := range a.Sentences {
		for _, c := range s.verify(a.Sentences[i].Text, a.Evidence) {
			if unresolved[c.ID] || !c.Resolved {
				a.Sentences[i].Flagged = true
			}
		}
	}
}
