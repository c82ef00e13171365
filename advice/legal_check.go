package advice

import (
	"context"

	"github.com/lawbot-kr/lawbot/models"
)

// LegalFilter tells whether a message is a legal question (models.Filter satisfies it).
type LegalFilter interface {
	Classify(text string) (isLegal bool, score float64)
}

// contextFilter is a filter that may have to load its model first (models.OnDemandFilter): the
// wait for it follows the request's ctx.
type contextFilter interface {
	ClassifyContext(ctx context.Context, text string) (isLegal bool, score float64)
}

// decider is a filter with an unsure band for chat-length messages (models.Filter,
// models.OnDemandFilter): its decision is LEGAL, NOT_LEGAL or UNSURE.
type decider interface {
	DecideContext(ctx context.Context, text string) (models.Decision, float64)
}

// unsureQuestion is the one clarifying question an UNSURE message gets.
const unsureQuestion = "법률 문제인지 확실하지 않아요. 어떤 일이 있었는지 조금 더 알려 주세요. " +
	"(예: \"월급을 두 달째 못 받고 있어요. 사장님은 다음 달에 준다고만 해요.\")"

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
		return LegalCheck{IsLegal: true, Decision: DecisionLegal, Score: 1}
	}
	var d models.Decision
	var score float64
	switch f := s.filter.(type) {
	case decider:
		d, score = f.DecideContext(ctx, q)
	case contextFilter:
		d, score = verdict(f.ClassifyContext(ctx, q))
	default:
		d, score = verdict(s.filter.Classify(q))
	}
	c := LegalCheck{IsLegal: d == models.DecisionLegal, Decision: string(d), Score: float32(score)}
	switch d {
	case models.DecisionNotLegal:
		c.Explanation = notLegalExplanation
	case models.DecisionUnsure:
		c.Explanation = unsureQuestion
	}
	return c
}

func verdict(legal bool, score float64) (models.Decision, float64) {
	if legal {
		return models.DecisionLegal, score
	}
	return models.DecisionNotLegal, score
}
