// Package law is LawBot's domain model: statute articles (조문), court precedents (판례) and
// Q&A pairs, the citation parser that links free text to articles, and the citation graph.
package law
