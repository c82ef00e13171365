package advice

// notLegalExplanation is what a person whose message is not a legal question reads.
const notLegalExplanation = "법률 문제로 보이지 않아 법률 안내를 드리지 않았습니다. 겪고 계신 일을 " +
	"구체적으로 적어 주시면(예: \"전세 계약이 끝났는데 집주인이 보증금을 돌려주지 않아요\") 관련 조문과 판례를 찾아 드립니다."

// checkLegal is the first stage: the trained filter decides whether the message gets advice.
func (p *Pipeline) checkLegal(q string) LegalCheck {
	if p.Filter == nil {
		return LegalCheck{IsLegal: true, Score: 1}
	}
	ok, score := p.Filter.Classify(q)
	c := LegalCheck{IsLegal: ok, Score: float32(score)}
	if !ok {
		c.Explanation = notLegalExplanation
	}
	return c
}
