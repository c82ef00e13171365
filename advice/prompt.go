package advice

import (
	_ "embed"
	"encoding/json"
	"regexp"
	"strings"
	"sync"
)

// The generator's prompt: the instruction, the question, and the evidence the earlier stages
// found — the top articles' text, the most similar Q&A answers, the nearest precedents'
// 판시사항 — one labelled item each. The template is prompt.json, which the fine-tuning script
// (training/gemma_finetune.py, format_prompt and fit_prompt) reads too, so the model is tuned
// on exactly the prompts it is served; testdata/prompt_golden.json holds a prompt both sides
// must build byte for byte.

//go:embed prompt.json
var promptJSON []byte

// PromptTemplate is prompt.json. Layout is the whole prompt with {instruction}, {question} and
// {evidence}; each evidence item is one of Article (ArticleUntitled when the article has no
// caption), QA or Precedent with its fields in braces, cut at ItemMaxChars characters (plus
// Ellipsis), prefixed by ItemPrefix and joined by ItemSeparator; NoEvidence stands in for none.
type PromptTemplate struct {
	Version         int      `json:"version"`
	Layout          string   `json:"layout"`
	Instruction     string   `json:"instruction"`
	ItemPrefix      string   `json:"item_prefix"`
	ItemSeparator   string   `json:"item_separator"`
	NoEvidence      string   `json:"no_evidence"`
	Article         string   `json:"article"`
	ArticleUntitled string   `json:"article_untitled"`
	QA              string   `json:"qa"`
	Precedent       string   `json:"precedent"`
	ItemMaxChars    int      `json:"item_max_chars"`
	Ellipsis        string   `json:"ellipsis"`
	Stop            []string `json:"stop"`
}

// DefaultPromptTemplate is the template the generator is served with, read once.
func DefaultPromptTemplate() PromptTemplate { return defaultPromptTemplate() }

var defaultPromptTemplate = sync.OnceValue(func() PromptTemplate {
	var t PromptTemplate
	if err := json.Unmarshal(promptJSON, &t); err != nil {
		panic("advice: prompt.json: " + err.Error()) // embedded at build time; a test reads it
	}
	return t
})

// PromptItem is one piece of evidence: Kind "article" (Law, Article, Title, Text), "qa" (Text:
// the answer) or "precedent" (CaseNo, Text: the 판시사항).
type PromptItem struct {
	Kind                string
	Law, Article, Title string
	CaseNo, Text        string
	articleID           string
}

var placeholderRe = regexp.MustCompile(`\{(\w+)\}`)

// fill replaces each {name} of format that values has, in one pass: a value holding "{...}"
// is not filled again.
func fill(format string, values map[string]string) string {
	return placeholderRe.ReplaceAllStringFunc(format, func(m string) string {
		if v, ok := values[m[1:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

// collapse folds runs of white space into one space and trims.
func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

// render is one item as the prompt shows it.
func (t PromptTemplate) render(it PromptItem) string {
	text := collapse(it.Text)
	if r := []rune(text); t.ItemMaxChars > 0 && len(r) > t.ItemMaxChars {
		text = string(r[:t.ItemMaxChars]) + t.Ellipsis
	}
	switch it.Kind {
	case "article":
		format := t.Article
		if collapse(it.Title) == "" {
			format = t.ArticleUntitled
		}
		return fill(format, map[string]string{"law": it.Law, "article": it.Article, "title": collapse(it.Title), "text": text})
	case "precedent":
		return fill(t.Precedent, map[string]string{"case_no": it.CaseNo, "text": text})
	}
	return fill(t.QA, map[string]string{"text": text})
}

// Format is the prompt for a question and its evidence items, in order.
func (t PromptTemplate) Format(question string, items []PromptItem) string {
	evidence := t.NoEvidence
	if len(items) > 0 {
		rendered := make([]string, len(items))
		for i, it := range items {
			rendered[i] = t.ItemPrefix + t.render(it)
		}
		evidence = strings.Join(rendered, t.ItemSeparator)
	}
	return fill(t.Layout, map[string]string{"instruction": t.Instruction, "question": collapse(question), "evidence": evidence})
}

// Prompt is a generator prompt and what it holds.
type Prompt struct {
	Text string
	// Articles are the ids of the articles quoted as evidence: a generated citation of any other
	// article is flagged.
	Articles map[string]bool
	// Evidence counts the items that fit; Dropped those left out for the budget.
	Evidence, Dropped int
}

// How many of each kind of evidence a prompt offers, in this order (as in training: the
// articles first).
const (
	promptStatutes   = 4
	promptQA         = 2
	promptPrecedents = 3
)

// PromptEvidence lists a result's evidence items in prompt order: the best articles (not
// deleted), the most similar Q&A answers, the nearest precedents' 판시사항.
func PromptEvidence(res *Result) []PromptItem {
	var items []PromptItem
	n := 0
	for _, m := range res.Statutes {
		st := m.Statute
		if n == promptStatutes {
			break
		}
		if st.Deleted() || strings.TrimSpace(st.Text) == "" {
			continue
		}
		items = append(items, PromptItem{Kind: "article", Law: st.Law, Article: st.Article, Title: st.Title, Text: st.Text, articleID: st.ID()})
		n++
	}
	var shown []string // the Q&A answers quoted so far, compacted
	for _, m := range res.SimilarQuestions {
		if len(shown) == promptQA {
			break
		}
		if restatesAny(m.QA.Answer, shown) {
			continue // a near-duplicate pair of the corpus: the model would read the same answer twice
		}
		items = append(items, PromptItem{Kind: "qa", Text: m.QA.Answer})
		shown = append(shown, compact(m.QA.Answer))
	}
	n = 0
	for _, m := range res.Precedents {
		if n == promptPrecedents {
			break
		}
		if strings.TrimSpace(m.Precedent.Holding) != "" {
			items = append(items, PromptItem{Kind: "precedent", CaseNo: m.Precedent.CaseNo, Text: m.Precedent.Holding})
			n++
		}
	}
	return items
}

// restatesAny reports an answer that mostly repeats one of the others (compacted), either way
// round: the shorter of two near-duplicates is mostly copied from the longer.
func restatesAny(answer string, others []string) bool {
	c := compact(answer)
	for _, o := range others {
		if copiedFrom(c, o) || copiedFrom(o, c) {
			return true
		}
	}
	return false
}

// BuildPrompt writes the prompt for a question from the result so far within budget tokens
// (count measures a text in the generator's tokens, without the start token, which is counted
// here): the evidence is dropped from the end until it fits, never the question. ok is false
// when the question alone does not fit.
func BuildPrompt(t PromptTemplate, res *Result, budget int, count func(string) int) (p Prompt, ok bool) {
	items := PromptEvidence(res)
	total := len(items)
	for {
		text := t.Format(res.Question, items)
		if count(text)+1 <= budget { // +1: the start token
			p = Prompt{Text: text, Articles: map[string]bool{}, Evidence: len(items), Dropped: total - len(items)}
			for _, it := range items {
				if it.articleID != "" {
					p.Articles[it.articleID] = true
				}
			}
			return p, true
		}
		if len(items) == 0 {
			return Prompt{}, false
		}
		items = items[:len(items)-1]
	}
}
