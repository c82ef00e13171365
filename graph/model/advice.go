// Package model holds the GraphQL types: those gqlgen generates from schema.graphqls
// (models_gen.go) and Advice, which wraps one pipeline result.
package model

import "github.com/lawbot-kr/lawbot/advice"

// Advice is one computed advice: the pipeline runs once per request and the field resolvers
// slice its result.
type Advice struct {
	Result *advice.Result
}
