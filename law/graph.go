package law

import (
	"cmp"
	"slices"
	"strconv"
)

// CitationGraph links precedents to the statute articles (참조조문) and the earlier precedents
// (참조판례) they cite, and articles to each other by co-citation: two articles cited by the same
// precedent are probably read together.
//
// It is built once from the corpus and then only read, so every adjacency list is a slice of
// int32 ids into one shared array (compressed sparse rows), sorted at build time in the order the
// queries return. Precedent ids are indexes into the slice the graph was built from.
type CitationGraph struct {
	precedents []Precedent

	// caseNode maps every plain case number (and every whole compound case_no) to a node. Nodes
	// below len(precedents) are precedents of the corpus; the rest are numbers that are only cited.
	caseNode map[string]int32
	numNodes int32

	articleNode map[string]int32
	articleIDs  []string

	// Adjacency in CSR form: the neighbours of node n are list[off[n]:off[n+1]].
	articleCitedByOff, articleCitedBy []int32 // article → citing precedents, newest first
	caseCitedByOff, caseCitedBy       []int32 // case node → citing precedents, newest first
	coCitedOff, coCited, coCount      []int32 // article → co-cited articles, most shared first
}

// CoCitation is an article cited together with another one, and by how many precedents.
type CoCitation struct {
	ArticleID string `json:"article_id"`
	Count     int    `json:"count"`
}

// GraphStats summarises a graph's size, for logs and benchmarks.
type GraphStats struct {
	Precedents       int // precedents the graph was built from
	Articles         int // distinct articles cited (in the corpus or not)
	ArticleCitations int // precedent → article edges
	CaseCitations    int // precedent → precedent edges
	CitedOnlyCases   int // cited case numbers with no precedent in the corpus
	CoCitationPairs  int // ordered article pairs with a shared citing precedent
}

// NewCitationGraph indexes precedents. The graph keeps the slice (not a copy): callers must not
// change it afterwards. When two precedents share a case number the first one owns it.
func NewCitationGraph(precedents []Precedent) *CitationGraph {
	g := &CitationGraph{
		precedents:  precedents,
		caseNode:    make(map[string]int32, len(precedents)*2),
		articleNode: make(map[string]int32),
	}
	for i := range precedents {
		id := int32(i)
		g.claimCase(NormalizeCaseNo(precedents[i].CaseNo), id)
		for _, n := range CaseNumbers(precedents[i].CaseNo) {
			g.claimCase(n, id)
		}
	}
	g.numNodes = int32(len(precedents))

	// Resolve every citation to node ids first; the per-precedent lists are short (at most a few
	// dozen), so linear de-duplication beats a set.
	citesArticles := make([][]int32, len(precedents))
	citesCases := make([][]int32, len(precedents))
	for i := range precedents {
		p := &precedents[i]
		for _, a := range p.CitedStatutes {
			n, ok := g.articleNode[a]
			if !ok {
				n = int32(len(g.articleIDs))
				g.articleNode[a] = n
				g.articleIDs = append(g.articleIDs, a)
			}
			if !slices.Contains(citesArticles[i], n) {
				citesArticles[i] = append(citesArticles[i], n)
			}
		}
		for _, c := range p.CitedCases {
			n := g.caseNodeFor(c)
			if n != int32(i) && !slices.Contains(citesCases[i], n) {
				citesCases[i] = append(citesCases[i], n)
			}
		}
	}

	newest := g.newestFirst()
	g.articleCitedByOff, g.articleCitedBy = invert(citesArticles, newest, len(g.articleIDs))
	g.caseCitedByOff, g.caseCitedBy = invert(citesCases, newest, int(g.numNodes))
	g.buildCoCitation(citesArticles)
	return g
}

// claimCase maps a case number to precedent id unless an earlier precedent holds it.
func (g *CitationGraph) claimCase(caseNo string, id int32) {
	if caseNo == "" {
		return
	}
	if _, taken := g.caseNode[caseNo]; !taken {
		g.caseNode[caseNo] = id
	}
}

// caseNodeFor returns the node of a cited case number, adding a cited-only node when the number
// names no precedent of the corpus.
func (g *CitationGraph) caseNodeFor(caseNo string) int32 {
	key := NormalizeCaseNo(caseNo)
	if n, ok := g.caseNode[key]; ok {
		return n
	}
	n := g.numNodes
	g.numNodes++
	g.caseNode[key] = n
	return n
}

// newestFirst lists precedent ids by date, newest first; a tie goes to the higher case number,
// which was filed later.
func (g *CitationGraph) newestFirst() []int32 {
	order := make([]int32, len(g.precedents))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(a, b int32) int {
		pa, pb := &g.precedents[a], &g.precedents[b]
		if c := cmp.Compare(pb.Date, pa.Date); c != 0 {
			return c
		}
		return compareCaseNo(pb.CaseNo, pa.CaseNo)
	})
	return order
}

// invert turns precedent → targets lists into target → precedents lists in CSR form. Walking the
// precedents in the given order leaves every list in that order without a sort per target.
func invert(forward [][]int32, order []int32, targets int) (off, list []int32) {
	off = make([]int32, targets+1)
	for _, ts := range forward {
		for _, t := range ts {
			off[t+1]++
		}
	}
	for t := 0; t < targets; t++ {
		off[t+1] += off[t]
	}
	list = make([]int32, off[targets])
	fill := slices.Clone(off[:targets])
	for _, p := range order {
		for _, t := range forward[p] {
			list[fill[t]] = p
			fill[t]++
		}
	}
	return off, list
}

// buildCoCitation counts, for every article, the other articles its citing precedents also cite.
// A dense counter reused across articles keeps this to one pass over the edges without a map.
func (g *CitationGraph) buildCoCitation(citesArticles [][]int32) {
	articles := len(g.articleIDs)
	counts := make([]int32, articles)
	var touched []int32
	g.coCitedOff = make([]int32, articles+1)
	for a := 0; a < articles; a++ {
		touched = touched[:0]
		for _, p := range g.articleCitedBy[g.articleCitedByOff[a]:g.articleCitedByOff[a+1]] {
			for _, b := range citesArticles[p] {
				if b == int32(a) {
					continue
				}
				if counts[b] == 0 {
					touched = append(touched, b)
				}
				counts[b]++
			}
		}
		slices.SortFunc(touched, func(x, y int32) int {
			if c := cmp.Compare(counts[y], counts[x]); c != 0 {
				return c
			}
			return cmp.Compare(g.articleIDs[x], g.articleIDs[y])
		})
		for _, b := range touched {
			g.coCited = append(g.coCited, b)
			g.coCount = append(g.coCount, counts[b])
			counts[b] = 0
		}
		g.coCitedOff[a+1] = int32(len(g.coCited))
	}
}

// Precedent finds a precedent by case number: a plain number ("2016다235411"), one number of a
// joined case ("2017다206984"), or the whole compound case_no. Spacing is ignored.
func (g *CitationGraph) Precedent(caseNo string) (*Precedent, bool) {
	n, ok := g.lookupCase(caseNo)
	if !ok || n >= int32(len(g.precedents)) {
		return nil, false
	}
	return &g.precedents[n], true
}

func (g *CitationGraph) lookupCase(caseNo string) (int32, bool) {
	key := NormalizeCaseNo(caseNo)
	if n, ok := g.caseNode[key]; ok {
		return n, true
	}
	// A compound number typed differently from the corpus still finds its first case.
	if nums := CaseNumbers(caseNo); len(nums) > 0 && nums[0] != key {
		n, ok := g.caseNode[nums[0]]
		return n, ok
	}
	return 0, false
}

// PrecedentsCiting lists the precedents that cite an article (canonical id "민법 제618조"), newest
// first; limit ≤ 0 means all.
func (g *CitationGraph) PrecedentsCiting(articleID string, limit int) []*Precedent {
	a, ok := g.articleNode[articleID]
	if !ok {
		return nil
	}
	return g.precedentList(g.articleCitedBy[g.articleCitedByOff[a]:g.articleCitedByOff[a+1]], limit)
}

// PrecedentsCitingCase lists the precedents whose 참조판례 name a case, newest first; limit ≤ 0
// means all. Citations of any number of a joined case count for the whole decision.
func (g *CitationGraph) PrecedentsCitingCase(caseNo string, limit int) []*Precedent {
	n, ok := g.lookupCase(caseNo)
	if !ok {
		return nil
	}
	return g.precedentList(g.caseCitedBy[g.caseCitedByOff[n]:g.caseCitedByOff[n+1]], limit)
}

// CitedBy counts the precedents that cite a case.
func (g *CitationGraph) CitedBy(caseNo string) int {
	n, ok := g.lookupCase(caseNo)
	if !ok {
		return 0
	}
	return int(g.caseCitedByOff[n+1] - g.caseCitedByOff[n])
}

// ArticleCitedBy counts the precedents that cite an article.
func (g *CitationGraph) ArticleCitedBy(articleID string) int {
	a, ok := g.articleNode[articleID]
	if !ok {
		return 0
	}
	return int(g.articleCitedByOff[a+1] - g.articleCitedByOff[a])
}

// CoCited lists the articles most often cited together with articleID, highest count first (ties
// by id); limit ≤ 0 means all.
func (g *CitationGraph) CoCited(articleID string, limit int) []CoCitation {
	a, ok := g.articleNode[articleID]
	if !ok {
		return nil
	}
	lo, hi := g.coCitedOff[a], g.coCitedOff[a+1]
	if limit > 0 && int(hi-lo) > limit {
		hi = lo + int32(limit)
	}
	out := make([]CoCitation, 0, hi-lo)
	for i := lo; i < hi; i++ {
		out = append(out, CoCitation{ArticleID: g.articleIDs[g.coCited[i]], Count: int(g.coCount[i])})
	}
	return out
}

// Stats reports the graph's size.
func (g *CitationGraph) Stats() GraphStats {
	return GraphStats{
		Precedents:       len(g.precedents),
		Articles:         len(g.articleIDs),
		ArticleCitations: len(g.articleCitedBy),
		CaseCitations:    len(g.caseCitedBy),
		CitedOnlyCases:   int(g.numNodes) - len(g.precedents),
		CoCitationPairs:  len(g.coCited),
	}
}

func (g *CitationGraph) precedentList(ids []int32, limit int) []*Precedent {
	if limit > 0 && len(ids) > limit {
		ids = ids[:limit]
	}
	out := make([]*Precedent, len(ids))
	for i, id := range ids {
		out[i] = &g.precedents[id]
	}
	return out
}

// NearestCaseNos suggests case numbers of the corpus close to one that was not found: the same
// year and 사건부호 with the nearest 일련번호, or the same 일련번호 under another year or
// 사건부호 (a typo in the 부호). At most n, nearest first.
func (g *CitationGraph) NearestCaseNos(caseNo string, n int) []string {
	nums := CaseNumbers(caseNo)
	if len(nums) == 0 {
		return nil
	}
	year, kind, serial, ok := splitCaseNo(nums[0])
	if !ok {
		return nil
	}
	want, _ := strconv.Atoi(serial)
	type candidate struct {
		caseNo string
		dist   int
	}
	var cands []candidate
	for key, node := range g.caseNode {
		if node >= int32(len(g.precedents)) {
			continue
		}
		y, k, s, ok := splitCaseNo(key)
		if !ok {
			continue
		}
		got, _ := strconv.Atoi(s)
		switch {
		case y == year && k == kind:
			cands = append(cands, candidate{key, abs(got - want)})
		case s == serial && (y == year || k == kind):
			cands = append(cands, candidate{key, 0})
		}
	}
	slices.SortFunc(cands, func(a, b candidate) int {
		if c := cmp.Compare(a.dist, b.dist); c != 0 {
			return c
		}
		return compareCaseNo(a.caseNo, b.caseNo)
	})
	out := make([]string, 0, n)
	for _, c := range cands {
		if len(out) == n {
			break
		}
		out = append(out, c.caseNo)
	}
	return out
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
