// Package service opens a state directory into a ready LawBot service — the state and its
// indexes, the analyzer, the vector store, and the models under the residency manager — from one
// Config. lawbot serve, eval and models use it, and so do the tests: the commands parse flags,
// call it and print.
package service
