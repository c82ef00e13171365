package lookup_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/lawbot-kr/lawbot/internal/fixture"
	"github.com/lawbot-kr/lawbot/lookup"
)

func TestArticles(t *testing.T) {
	c := lookup.New(fixture.State(t))
	got := c.Articles([]string{"민법 제618조", "민법 618조", "민법제741조", "항공보안법 제12조", "민법 제620조"})
	want := []struct {
		id, title string
		inCorpus  bool
	}{
		{"민법 제618조", "임대차의 의의", true},
		{"민법 618조", "임대차의 의의", true}, // as cited, resolved despite the spelling
		{"민법제741조", "부당이득의 내용", true},
		{"항공보안법 제12조", "", false}, // a law not collected
		{"민법 제620조", "", false},   // an article the corpus lacks
	}
	if len(got) != len(want) {
		t.Fatalf("%d articles, want %d", len(got), len(want))
	}
	for i, w := range want {
		a := got[i]
		if a.ID != w.id || a.Title != w.title || a.InCorpus != w.inCorpus || (a.Statute != nil) != w.inCorpus {
			t.Errorf("%s: %+v, want title %q, in corpus %v", w.id, a, w.title, w.inCorpus)
		}
	}
	if c.Articles(nil) == nil {
		t.Error("Articles(nil) is nil, want an empty list")
	}
}

func TestCitations(t *testing.T) {
	c := lookup.New(fixture.State(t))
	for _, tt := range []struct {
		name string
		got  int
		want int
	}{
		{"민법 제618조 cited by", c.ArticleCitedBy("민법 제618조"), 4},
		{"민법 제741조 cited by", c.ArticleCitedBy("민법 제741조"), 6},
		{"an article outside the corpus, cited", c.ArticleCitedBy("항공보안법 제12조"), 1},
		{"citing 민법 제741조, first 2", len(c.PrecedentsCiting("민법 제741조", 2)), 2},
		{"citing 민법 제741조, all", len(c.PrecedentsCiting("민법 제741조", 0)), 6},
		{"a joined case's second number, cited by", c.CaseCitedBy("2018다240431"), 1},
		{"a case only cited, cited by", c.CaseCitedBy("97다33997"), 1},
		{"citing 2018다240431", len(c.PrecedentsCitingCase("2018다240431", 5)), 1},
		{"unknown case", c.CaseCitedBy("2099다1"), 0},
	} {
		if tt.got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, tt.got, tt.want)
		}
	}
	co := c.CoCited("민법 제741조", 3)
	if len(co) != 3 || co[0].ID != "민법 제618조" || co[0].Count != 4 || !co[0].InCorpus || co[0].Title != "임대차의 의의" {
		t.Errorf("co-cited with 민법 제741조: %+v, want 민법 제618조 ×4 first", co)
	}
}

func TestReportsNotFound(t *testing.T) {
	c := lookup.New(fixture.State(t))
	for _, tt := range []struct {
		name string
		err  error
		want lookup.NotFoundError
		msg  string
	}{
		{"article of a known law", report(c.StatuteReport("민법 제620조", 5)),
			lookup.NotFoundError{Kind: "article", ID: "민법 제620조", Suggestions: []string{"민법 제619조", "민법 제618조", "민법 제623조", "민법 제537조", "민법 제741조"}, Hint: `ids look like "민법 제618조"`},
			`no article "민법 제620조" in the corpus; did you mean: 민법 제619조, 민법 제618조, 민법 제623조, 민법 제537조, 민법 제741조?`},
		{"misspelt law", report(c.StatuteReport("주택임대차법 제3조", 5)),
			lookup.NotFoundError{Kind: "article", ID: "주택임대차법 제3조", Suggestions: []string{"주택임대차보호법 제3조"}, Hint: `ids look like "민법 제618조"`},
			`no article "주택임대차법 제3조" in the corpus; did you mean: 주택임대차보호법 제3조?`},
		{"case only cited", report(c.PrecedentReport("97다33997", 5)),
			lookup.NotFoundError{Kind: "precedent", ID: "97다33997", Suggestions: []string{}, Hint: "cited by 1 precedent of the corpus, but the decision itself is not collected"},
			`no precedent "97다33997" in the corpus (cited by 1 precedent of the corpus, but the decision itself is not collected)`},
		{"typo in the serial", report(c.PrecedentReport("2016다235412", 5)),
			lookup.NotFoundError{Kind: "precedent", ID: "2016다235412", Suggestions: []string{"2016다235411", "2016다9643"}, Hint: `case numbers look like "2016다235411"`},
			`no precedent "2016다235412" in the corpus; did you mean: 2016다235411, 2016다9643?`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var nf *lookup.NotFoundError
			if !errors.As(tt.err, &nf) {
				t.Fatalf("error %v, want a *NotFoundError", tt.err)
			}
			if !reflect.DeepEqual(*nf, tt.want) || nf.Error() != tt.msg {
				t.Errorf("%+v (%q)\nwant %+v (%q)", *nf, nf.Error(), tt.want, tt.msg)
			}
		})
	}
}

// report keeps the error of a report.
func report[T any](_ T, err error) error { return err }

func TestStatuteReport(t *testing.T) {
	c := lookup.New(fixture.State(t))
	r, err := c.StatuteReport("민법 618조", 1)
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != "민법 제618조" || !r.InCorpus || r.Statute == nil || r.CitedByTotal != 4 || len(r.CitedBy) != 1 || len(r.CoCited) != 1 {
		t.Errorf("report %+v", r)
	}
	// Cited but not collected: the neighbourhood without the article.
	r, err = c.StatuteReport("항공보안법 제12조", 10)
	if err != nil {
		t.Fatal(err)
	}
	if r.InCorpus || r.Statute != nil || r.CitedByTotal != 1 || r.CitedBy[0].CaseNo != "2024다293580" {
		t.Errorf("report %+v", r)
	}
}

func TestPrecedentReport(t *testing.T) {
	c := lookup.New(fixture.State(t))
	r, err := c.PrecedentReport("2025다210006", 10)
	if err != nil {
		t.Fatal(err)
	}
	if r.Precedent.CaseNo != "2025다210005, 210006" || len(r.CitedArticles) != 2 || !r.CitedArticles[0].InCorpus {
		t.Errorf("report %+v", r)
	}
	if cc := r.CitedCases[1]; cc.CaseNo != "2018다240424" || !cc.InCorpus || cc.Precedent.CaseNo != "2018다240424, 240431" {
		t.Errorf("cited case %+v", cc)
	}
	r, err = c.PrecedentReport("63다211", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.SameNumber) != 1 || r.SameNumber[0].Court != "광주고등법원" {
		t.Errorf("same number: %+v", r.SameNumber)
	}
}
