// Package service opens a state directory into a ready LawBot service — the state and its
// indexes, the analyzer, the vector store, and the models under the residency manager — from one
// Config (Open), and serves it over HTTP (Serve: ingest when stale, indexes, the filter trained
// when missing, the GraphQL API, readiness). lawbot serve, eval, ingest and models use it, and so
// do the tests: the commands parse flags, call it and print.
package service
