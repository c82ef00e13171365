package advice

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Composer limits: a short answer a person reads in a minute.
const (
	answerQASentences       = 3   // sentences taken from the best similar answer
	answerStatutes          = 3   // articles quoted
	minAnswerSimilarity     = 0.5 // a second answer is used only when this close to the best one
	maxQuotedArticleRunes   = 160
	sentenceMinRunes        = 8
	sentencesFromSecondBest = 1
)

var sentenceEndRe = regexp.MustCompile(`([.!?。]|다\.|요\.)\s+`)

// splitSentences cuts text after sentence-ending punctuation, dropping table lines and fragments.
func splitSentences(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "[표") || strings.Contains(line, " | ") {
			continue
		}
		idx := sentenceEndRe.FindAllStringIndex(line, -1)
		start := 0
		for _, m := range idx {
			out = appendSentence(out, line[start:m[1]])
			start = m[1]
		}
		out = appendSentence(out, line[start:])
	}
	return out
}

func appendSentence(out []string, s string) []string {
	s = strings.TrimSpace(strings.TrimLeft(s, "☞▪·-◇ "))
	if utf8.RuneCountInString(s) >= sentenceMinRunes {
		out = append(out, s)
	}
	return out
}

// composeAnswer is the grounded extractive composer: it says nothing it cannot attribute. It
// opens with the best-matching Q&A answer's first sentences, quotes the top articles' own text,
// and closes with where to get help. Each sentence goes to delta as it is composed.
func (p *Pipeline) composeAnswer(res *Result, delta func(string)) *Answer {
	a := &Answer{Generator: "extractive"}
	var b strings.Builder
	add := func(s AnswerSentence) {
		a.Sentences = append(a.Sentences, s)
		piece := s.Text
		if b.Len() > 0 {
			piece = " " + piece
		}
		b.WriteString(piece)
		delta(piece)
	}
	if len(res.SimilarQuestions) > 0 {
		best := res.SimilarQuestions[0]
		add(AnswerSentence{Text: "비슷한 상담 사례의 답변을 먼저 안내합니다.", Source: "guide"})
		for i, s := range splitSentences(best.QA.Answer) {
			if i >= answerQASentences {
				break
			}
			add(AnswerSentence{Text: s, Source: "qa", Ref: best.QA.Question})
		}
		if len(res.SimilarQuestions) > 1 {
			second := res.SimilarQuestions[1]
			if second.Score >= minAnswerSimilarity*best.Score {
				for i, s := range splitSentences(second.QA.Answer) {
					if i >= sentencesFromSecondBest {
						break
					}
					add(AnswerSentence{Text: s, Source: "qa", Ref: second.QA.Question})
				}
			}
		}
	}
	quoted := 0
	for _, m := range res.Statutes {
		if quoted == answerStatutes {
			break
		}
		st := m.Statute
		if st.Deleted() || strings.TrimSpace(st.Text) == "" {
			continue
		}
		if quoted == 0 {
			add(AnswerSentence{Text: "관련 조문은 다음과 같습니다.", Source: "guide"})
		}
		title := ""
		if st.Title != "" {
			title = "(" + st.Title + ")"
		}
		add(AnswerSentence{Text: fmt.Sprintf("「%s」 %s%s: \"%s\"", st.Law, st.Article, title, firstClause(st.Text)),
			Source: "statute", Ref: st.ID()})
		quoted++
	}
	add(AnswerSentence{Text: "이 안내는 비슷한 사례와 조문을 모은 것으로 법률 자문이 아닙니다. 구체적인 사정에 따라 결론이 달라질 수 있으니 대한법률구조공단(국번 없이 132)에서 무료 상담을 받아 보세요.", Source: "guide"})
	a.Text = b.String()
	return a
}

// firstClause is the opening of an article's text, cut at its first paragraph or the quote limit.
func firstClause(text string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(text), "\n")
	r := []rune(line)
	if len(r) > maxQuotedArticleRunes {
		return string(r[:maxQuotedArticleRunes]) + "…"
	}
	return line
}
