// Package search is LawBot's retrieval: the Korean analyzer (kagome morphemes plus character
// bigrams) and a BM25F index with per-field weights, persisted in the state directory; and the
// dense side, a vector Store (embedded HNSW by default, Milvus at scale).
package search
