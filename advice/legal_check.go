package advice

import "context"

// LegalFilter tells whether a message is a legal question (models.Filter satisfies it).
type LegalFilter interface {
	Classify(text string) (isLegal bool, score float64)
}

// contextFilter is a filter that may have to load its model first (models.OnDemandFilter): the
// wait for it follows the request's ctx.
type contextFilter interface {
	ClassifyContext(ctx context.Context, text string) (isLegal bool, score float64)
}

// notLegalExplanation is what a person whose message is not a legal question reads.
const notLegalExplanation = "법률 문제로 보이지 않아 법률 안내를 드리지 않았습니다. 겪고 계신 일을 " +
	"구체적으로 적어 주시면(예: \"전세 계약이 끝났는데 집주인이 보증금을 돌려주지 않아요\") 관련 조문과 판례를 찾아 드립니다."

// legalCheck is the first stage: the trained filter decides whether the message gets advice; a
// message that is not a legal question ends the request here.
type legalCheck struct {
	filter LegalFilter // nil: every message is legal
}

func (legalCheck) Name() StageName { return StageLegalCheck }

func (s legalCheck) Run(ctx context.Context, req *Request) error {
	req.Result.Legal = s.check(ctx, req.Question)
	if !req.Result.Legal.IsLegal {
		req.Stop()
	}
	return nil
}

func (s legalCheck) check(ctx context.Context, q string) LegalCheck {
	if s.filter == nil {
		return LegalCheck{IsLegal: true, Score: 1}
	}
	var ok bool
	var score float64
	if cf, can := s.filter.(contextFilter); can {
		ok, score = cf.ClassifyContext(ctx, q)
	} else {
		ok, score = s.filter.Classify(q)
	}
	c := LegalCheck{IsLegal: ok, Score: float32(score)}
	if !ok {
		c.Explanation = notLegalExplanation
	}
	return c
}
