package advice

// Graph sizes: enough to explore, small enough to draw.
const (
	graphCitingPerStatute = 3
	graphStatutes         = 8
)

// citationGraph links the question to the suggested articles and the similar precedents, and
// each article to the precedents that cite it (similar ones first, then the newest).
func (r *Retriever) citationGraph(res *Result) CitationGraph {
	var g CitationGraph
	seen := map[string]bool{}
	node := func(id, kind, label string) {
		if !seen[id] {
			seen[id] = true
			g.Nodes = append(g.Nodes, GraphNode{ID: id, Kind: kind, Label: label})
		}
	}
	const questionID = "question"
	node(questionID, "question", res.Question)
	statutes := res.Statutes[:min(len(res.Statutes), graphStatutes)]
	inGraph := map[string]bool{}
	for _, m := range statutes {
		id := m.Statute.ID()
		inGraph[id] = true
		node(id, "statute", id+" "+m.Statute.Title)
		g.Edges = append(g.Edges, GraphEdge{From: questionID, To: id, Kind: "suggests"})
	}
	for _, m := range res.Precedents {
		pid := "precedent:" + m.Precedent.CaseNo
		node(pid, "precedent", m.Precedent.CaseNo+" "+m.Precedent.Title)
		g.Edges = append(g.Edges, GraphEdge{From: questionID, To: pid, Kind: "similar"})
		for _, sid := range m.Precedent.CitedStatutes {
			if inGraph[sid] {
				g.Edges = append(g.Edges, GraphEdge{From: pid, To: sid, Kind: "cites"})
			}
		}
	}
	for _, m := range statutes {
		sid := m.Statute.ID()
		for _, c := range r.State.Graph.PrecedentsCiting(sid, graphCitingPerStatute) {
			pid := "precedent:" + c.CaseNo
			if seen[pid] {
				continue
			}
			node(pid, "precedent", c.CaseNo+" "+c.Title)
			g.Edges = append(g.Edges, GraphEdge{From: pid, To: sid, Kind: "cites"})
		}
	}
	return g
}
