// Package evaluation measures LawBot on its dev sets: the statute ranking through the pipeline
// the API runs, the legal-question filter's FAR and FRR, and the citation parser's agreement
// with the corpus's cited_statutes. lawbot eval and lawbot cite --agreement print what it measures.
package evaluation
