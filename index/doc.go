// Package index builds, checks and opens what the request path searches over a state: the
// lexical indexes, the vector records of the corpus and the vector store holding them.
package index
