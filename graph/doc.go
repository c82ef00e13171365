// Package graph will hold the gqlgen output and the thin GraphQL resolvers over the advice
// pipeline. It lands with the GraphQL API issue (schema.graphqls and gqlgen.yml at the top level).
package graph
