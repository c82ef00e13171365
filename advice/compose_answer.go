package advice

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/lawbot-kr/lawbot/index"
	"github.com/lawbot-kr/lawbot/search"
)

// Composer limits: a short answer a person reads in a minute.
const (
	answerQASentences     = 3   // sentences taken from similar answers
	answerSourceAnswers   = 3   // similar answers the sentences may come from
	minAnswerSimilarity   = 0.5 // an answer is used only when this close to the best one
	answerStatutes        = 3   // articles quoted
	maxQuotedArticleRunes = 160
	sentenceMinRunes      = 8
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

// composeAnswer is the fifth stage, the grounded extractive composer: it says nothing it cannot
// attribute. It opens with the best-matching Q&A answer's first sentences, quotes the top
// articles' own text, and closes with where to get help. Each sentence goes to the client as it
// is composed.
type composeAnswer struct {
	corpus *Retriever
}

func (composeAnswer) Name() StageName { return StageAnswerDelta }

func (s composeAnswer) Run(_ context.Context, req *Request) error {
	req.Result.Answer = s.compose(req.Result, req.Delta)
	return nil
}

func (s composeAnswer) compose(res *Result, delta func(string)) *Answer {
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
	if picked := s.answerSentences(res); len(picked) > 0 {
		add(AnswerSentence{Text: "비슷한 상담 사례의 답변에서 질문과 맞닿은 부분을 먼저 안내합니다.", Source: "guide"})
		for _, s := range picked {
			add(s)
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

// answerSentences picks, from the most similar answers, the sentences that share the most with
// the question: each sentence scores the summed IDF of the question's character bigrams it holds,
// times its answer's similarity to the best one. The best answer's opening can be about a
// neighbouring problem (a rent increase when the question is about getting the deposit back);
// the sentence that names the asker's problem is the one worth reading first. They are shown in
// their answers' order.
func (s composeAnswer) answerSentences(res *Result) []AnswerSentence {
	qas := res.SimilarQuestions
	if len(qas) == 0 || qas[0].Score <= 0 {
		return nil
	}
	idx := s.corpus.Indexes.QA
	want := map[string]float32{}
	for _, g := range search.Bigrams(search.Normalize(res.Question)) {
		want[g] = idx.IDF(index.Bigram(g))
	}
	type candidate struct {
		s           AnswerSentence
		score       float32
		answer, pos int
	}
	var cands []candidate
	for a, m := range qas[:min(len(qas), answerSourceAnswers)] {
		rel := m.Score / qas[0].Score
		if rel < minAnswerSimilarity {
			break
		}
		for pos, text := range splitSentences(m.QA.Answer) {
			var score float32
			seen := map[string]bool{}
			for _, g := range search.Bigrams(search.Normalize(text)) {
				if w, ok := want[g]; ok && !seen[g] {
					seen[g] = true
					score += w
				}
			}
			if score > 0 {
				cands = append(cands, candidate{AnswerSentence{Text: text, Source: "qa", Ref: m.QA.Question}, score * rel, a, pos})
			}
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].score > cands[j].score })
	cands = cands[:min(len(cands), answerQASentences)]
	sort.SliceStable(cands, func(i, j int) bool {
		return cands[i].answer < cands[j].answer || (cands[i].answer == cands[j].answer && cands[i].pos < cands[j].pos)
	})
	out := make([]AnswerSentence, len(cands))
	for i, c := range cands {
		out[i] = c.s
	}
	return out
}
