// Package search will hold retrieval: the Korean BM25 index, the vector Store interface with its
// embedded (HNSW) and Milvus implementations, and fusion. It lands with the retrieval issues.
package search
