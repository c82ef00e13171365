package advice

import (
	"encoding/json"
	"os"
	"testing"
)

// The Go prompt is the fine-tuning script's, byte for byte: testdata/prompt_golden.json holds
// prompts its format_prompt built (training/test_gemma_finetune.py checks it still does).
func TestPromptMatchesTraining(t *testing.T) {
	data, err := os.ReadFile("testdata/prompt_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Cases []struct {
			Name     string `json:"name"`
			Question string `json:"question"`
			Items    []struct {
				Kind    string `json:"kind"`
				Law     string `json:"law"`
				Article string `json:"article"`
				Title   string `json:"title"`
				CaseNo  string `json:"case_no"`
				Text    string `json:"text"`
			} `json:"items"`
			Want string `json:"want"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &golden); err != nil {
		t.Fatal(err)
	}
	if len(golden.Cases) == 0 {
		t.Fatal("no golden prompts")
	}
	tmpl := DefaultPromptTemplate()
	for _, c := range golden.Cases {
		items := make([]PromptItem, len(c.Items))
		for i, it := range c.Items {
			items[i] = PromptItem{Kind: it.Kind, Law: it.Law, Article: it.Article, Title: it.Title, CaseNo: it.CaseNo, Text: it.Text}
		}
		if got := tmpl.Format(c.Question, items); got != c.Want {
			t.Errorf("%s:\ngot  %q\nwant %q", c.Name, got, c.Want)
		}
	}
}
