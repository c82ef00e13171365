// Package advice answers: the request path as stages over a shared request (legal check,
// similar questions, similar precedents, statute ranking, answer, citation check), one file
// each, over indexes and a vector store that package index built and opened.
package advice
