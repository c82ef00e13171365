package evaluation

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lawbot-kr/lawbot/law"
)

func writeCorpus(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestCitationAgreement(t *testing.T) {
	dir := writeCorpus(t, map[string]string{
		law.StatutesFile: `{"law": "민법", "article": "제618조", "title": "임대차의 의의", "text": "…"}
{"law": "민법", "article": "제623조", "title": "임대인의 의무", "text": "…"}
{"law": "주택임대차보호법", "article": "제3조", "title": "대항력 등", "text": "…"}
`,
		"precedents.jsonl": `{"case_no": "2020다1", "cited_statutes_raw": "민법 제618조, 제623조", "cited_statutes": ["민법 제618조", "민법 제623조"]}
{"case_no": "2020다2", "cited_statutes_raw": "민법 제618조, 주택임대차보호법 제3조", "cited_statutes": ["민법 제618조", "민법 제623조"]}
{"case_no": "2020다3", "cited_statutes_raw": "형법 제347조", "cited_statutes": ["형법 제347조"]}
{"case_no": "2020다4", "cited_statutes_raw": "", "cited_statutes": ["민법 제618조"]}
`,
	})
	catalog, err := law.LoadCatalog(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, err := CitationAgreement(context.Background(), dir, law.NewCitationParser(catalog), catalog, law.ModeReference)
	if err != nil {
		t.Fatal(err)
	}
	// 2020다3 cites a law outside the catalog, 2020다4 has no 참조조문: neither is compared.
	if a.Compared != 2 || a.Exact != 1 || a.Rate() != 0.5 || len(a.Samples) != 1 {
		t.Fatalf("agreement %+v", a)
	}
	d := a.Samples[0]
	if d.CaseNo != "2020다2" || strings.Join(d.OnlyOurs(), "|") != "주택임대차보호법 제3조" || strings.Join(d.OnlyTheirs(), "|") != "민법 제623조" {
		t.Errorf("disagreement %+v: ours only %v, theirs only %v", d, d.OnlyOurs(), d.OnlyTheirs())
	}

	if _, err := CitationAgreement(context.Background(), "", nil, catalog, law.ModeAuto); !errors.Is(err, law.ErrNoCorpus) {
		t.Errorf("no corpus: err %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := CitationAgreement(ctx, dir, law.NewCitationParser(catalog), catalog, law.ModeAuto); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err %v", err)
	}
}

func TestAgreementRateWithoutComparisons(t *testing.T) {
	if r := (Agreement{}).Rate(); r != 0 {
		t.Errorf("rate of nothing compared = %v", r)
	}
}
