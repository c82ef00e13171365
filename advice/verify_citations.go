package advice

// verifyCitations is the last stage: every article the answer mentions is parsed with the
// citation parser and looked up in the statute corpus; unknown ones are kept, marked unresolved.
func (p *Pipeline) verifyCitations(text string) []VerifiedCitation {
	var out []VerifiedCitation
	for _, c := range p.Retriever.Parser.Parse(text) {
		v := VerifiedCitation{ID: c.ID(), Resolved: c.Resolved}
		if s, ok := p.Retriever.State.Statute(c.ID()); ok {
			v.Statute, v.Resolved = s, true
		}
		out = append(out, v)
	}
	return out
}
