package law

// Citation is one statute article reference found in text, in canonical form.
type Citation struct {
	Law     string `json:"law"`     // current official title, e.g. "주택임대차보호법"
	Article string `json:"article"` // "제3조의2" (항/호/목 dropped)
	// Resolved is true when the article exists in the statute corpus the parser was given.
	Resolved bool `json:"resolved"`
}

// ID is the canonical id "<law> <article>".
func (c Citation) ID() string { return ArticleID(c.Law, c.Article) }

// Catalog is what the parser knows of the statute corpus: law titles (for mapping old and
// unspaced names to current titles) and the set of existing article ids (for resolution).
type Catalog struct {
	laws     map[string]bool
	articles map[string]bool
}

// NewCatalog builds a catalog from statute articles.
func NewCatalog(statutes []Statute) *Catalog {
	c := &Catalog{laws: map[string]bool{}, articles: map[string]bool{}}
	for i := range statutes {
		c.Add(statutes[i].Law, statutes[i].Article)
	}
	return c
}

// Add records one existing article.
func (c *Catalog) Add(law, article string) {
	c.laws[law] = true
	if article != "" {
		c.articles[ArticleID(law, article)] = true
	}
}

// HasLaw reports whether the law is in the corpus.
func (c *Catalog) HasLaw(law string) bool { return c != nil && c.laws[law] }

// HasArticle reports whether the canonical id names an existing article.
func (c *Catalog) HasArticle(id string) bool { return c != nil && c.articles[id] }

// CitationParser turns 참조조문 strings and prose into canonical article ids.
type CitationParser struct {
	catalog *Catalog
}

// NewCitationParser returns a parser that maps names and resolves ids against catalog
// (which may be nil: then nothing resolves and names are kept as written, minus spacing fixes).
func NewCitationParser(catalog *Catalog) *CitationParser {
	return &CitationParser{catalog: catalog}
}

// Parse returns the article citations in text, in order of first appearance, without duplicates.
// TODO(citation parser): real implementation lands with issue 2 §3.
func (p *CitationParser) Parse(text string) []Citation { return nil }
