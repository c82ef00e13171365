// Package graph is LawBot's GraphQL API: the gqlgen output for schema.graphqls and thin
// resolvers that translate between the schema and a Backend (Advisor, Lookup); NewHandler mounts it.
package graph

//go:generate go run -C .. github.com/99designs/gqlgen generate
