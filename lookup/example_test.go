package lookup_test

import (
	"fmt"
	"os"

	"github.com/lawbot-kr/lawbot/internal/fixture"
	"github.com/lawbot-kr/lawbot/lookup"
)

// Resolving a precedent's 참조조문 against the corpus, and asking for an article it lacks.
func Example() {
	dir, _ := os.MkdirTemp("", "lookup-example-")
	defer os.RemoveAll(dir)
	st, err := fixture.Build(dir) // the fixture corpus, ingested as "lawbot ingest" does
	if err != nil {
		fmt.Println(err)
		return
	}
	c := lookup.New(st)

	p, _ := c.Precedent("2024다293580")
	for _, a := range c.Articles(p.CitedStatutes[:3]) {
		if a.InCorpus {
			fmt.Printf("%s: %s\n", a.ID, a.Title)
		} else {
			fmt.Printf("%s: not in the corpus\n", a.ID)
		}
	}
	fmt.Println(c.ArticleCitedBy("민법 제618조"), "precedents cite 민법 제618조")
	_, err = c.StatuteReport("민법 제620조", 5)
	fmt.Println(err)
	// Output:
	// 민법 제105조: not in the corpus
	// 민법 제623조: 임대인의 의무
	// 민법 제537조: 채무자위험부담주의
	// 4 precedents cite 민법 제618조
	// no article "민법 제620조" in the corpus; did you mean: 민법 제619조, 민법 제618조, 민법 제623조, 민법 제537조, 민법 제741조?
}
