package advice

import (
	_ "embed"
	"encoding/json"
	"strconv"
	"strings"
)

// The generator's prompt: the question, the evidence the earlier stages found (the top
// articles' text, the nearest precedents' 판시사항, the most similar Q&A answers), each labelled,
// and the instruction to answer only from them. The template is prompt.json, which the
// fine-tuning script (training/gemma_finetune.py) reads too, so the model is tuned on the prompts
// it is served.

//go:embed prompt.json
var promptJSON []byte

// PromptTemplate is prompt.json: the labelled lines of a generator prompt. Fields in braces are
// filled in: {n} the evidence number, {law} {article} {title} {text} an article, {court}
// {case_no} {text} a precedent, {question} {answer} a Q&A pair or the question asked.
type PromptTemplate struct {
	Instruction    string   `json:"instruction"`
	EvidenceHeader string   `json:"evidence_header"`
	Statute        string   `json:"statute"`
	Precedent      string   `json:"precedent"`
	QA             string   `json:"qa"`
	Question       string   `json:"question"`
	Answer         string   `json:"answer"`
	Stop           []string `json:"stop"`
}

// DefaultPromptTemplate is the template the generator is served with.
func DefaultPromptTemplate() PromptTemplate {
	var t PromptTemplate
	if err := json.Unmarshal(promptJSON, &t); err != nil {
		panic("advice: prompt.json: " + err.Error()) // embedded at build time; a test reads it
	}
	return t
}

// fill replaces each {key} of format with its value.
func fill(format string, kv ...string) string {
	pairs := make([]string, 0, len(kv))
	for i := 0; i+1 < len(kv); i += 2 {
		pairs = append(pairs, "{"+kv[i]+"}", kv[i+1])
	}
	return strings.NewReplacer(pairs...).Replace(format)
}

// Prompt is a generator prompt and what it holds.
type Prompt struct {
	Text string
	// Articles are the ids of the articles quoted as evidence: a generated citation of any other
	// article is flagged.
	Articles map[string]bool
	// Evidence counts the pieces of evidence that fit; Dropped those left out for the budget.
	Evidence, Dropped int
}

// Evidence sizes: how many of each kind a prompt offers and how much of each text.
const (
	promptStatutes       = 4
	promptPrecedents     = 3
	promptQA             = 2
	promptStatuteRunes   = 400
	promptPrecedentRunes = 300
	promptQARunes        = 500
)

// BuildPrompt writes the prompt for a question from the result so far, within budget tokens
// (count measures a text in the generator's tokens). The evidence goes in order of use — the
// best articles, then precedents, then Q&A — each piece whole or not at all; what does not fit
// is dropped, never the question. ok is false when the instruction and the question alone do
// not fit.
func BuildPrompt(t PromptTemplate, res *Result, budget int, count func(string) int) (p Prompt, ok bool) {
	head := t.Instruction + "\n\n" + t.EvidenceHeader + "\n"
	tail := "\n" + fill(t.Question, "question", res.Question) + "\n" + t.Answer
	used := count(head + tail)
	if used > budget {
		return Prompt{}, false
	}
	var pieces []string
	p.Articles = map[string]bool{}
	try := func(line string) bool {
		n := count(line + "\n")
		if used+n > budget {
			p.Dropped++
			return false
		}
		used += n
		pieces = append(pieces, line)
		p.Evidence++
		return true
	}
	n := 0
	for _, m := range res.Statutes {
		st := m.Statute
		if n == promptStatutes || st.Deleted() || strings.TrimSpace(st.Text) == "" {
			continue
		}
		title := ""
		if st.Title != "" {
			title = "(" + st.Title + ")"
		}
		line := fill(t.Statute, "n", strconv.Itoa(n+1), "law", st.Law, "article", st.Article, "title", title,
			"text", oneLine(st.Text, promptStatuteRunes))
		if try(line) {
			p.Articles[st.ID()] = true
			n++
		}
	}
	n = 0
	for _, m := range res.Precedents {
		pr := m.Precedent
		if n == promptPrecedents || strings.TrimSpace(pr.Holding) == "" {
			continue
		}
		if try(fill(t.Precedent, "n", strconv.Itoa(n+1), "court", pr.Court, "case_no", pr.CaseNo,
			"text", oneLine(pr.Holding, promptPrecedentRunes))) {
			n++
		}
	}
	n = 0
	for _, m := range res.SimilarQuestions {
		if n == promptQA {
			break
		}
		if try(fill(t.QA, "n", strconv.Itoa(n+1), "question", oneLine(m.QA.Question, promptQARunes/2),
			"answer", oneLine(m.QA.Answer, promptQARunes))) {
			n++
		}
	}
	p.Text = head + strings.Join(pieces, "\n") + "\n" + tail
	return p, true
}

// oneLine folds text onto one line and cuts it at n characters.
func oneLine(text string, n int) string {
	s := strings.Join(strings.Fields(text), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
