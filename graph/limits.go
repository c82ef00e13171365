package graph

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/lawbot-kr/lawbot/graph/generated"
	"github.com/lawbot-kr/lawbot/graph/model"
)

// depthLimit rejects operations whose selections nest deeper than max (fragments followed,
// introspection not counted: GraphQL tools' own introspection query is deep).
type depthLimit struct{ max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = depthLimit{}

func (depthLimit) ExtensionName() string                   { return "DepthLimit" }
func (depthLimit) Validate(graphql.ExecutableSchema) error { return nil }
func (d depthLimit) MutateOperationContext(_ context.Context, op *graphql.OperationContext) *gqlerror.Error {
	if depth := selectionDepth(op.Operation.SelectionSet, d.max+1); depth > d.max {
		return coded(CodeQueryTooDeep, fmt.Sprintf("the query nests %d levels deep; the limit is %d", depth, d.max))
	}
	return nil
}

// selectionDepth is the deepest field nesting under set, counted up to stop (validation has
// already refused fragment cycles; stop bounds the walk anyway).
func selectionDepth(set ast.SelectionSet, stop int) int {
	if stop <= 0 {
		return 0
	}
	deepest := 0
	for _, s := range set {
		var d int
		switch s := s.(type) {
		case *ast.Field:
			if strings.HasPrefix(s.Name, "__") {
				continue
			}
			d = 1 + selectionDepth(s.SelectionSet, stop-1)
		case *ast.InlineFragment:
			d = selectionDepth(s.SelectionSet, stop)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				d = selectionDepth(s.Definition.SelectionSet, stop)
			}
		}
		deepest = max(deepest, d)
	}
	return deepest
}

// complexityLimit is gqlgen's fixed complexity limit answering with our code.
type complexityLimit struct{ *extension.ComplexityLimit }

func (c complexityLimit) MutateOperationContext(ctx context.Context, op *graphql.OperationContext) *gqlerror.Error {
	err := c.ComplexityLimit.MutateOperationContext(ctx, op)
	if err != nil {
		errcode.Set(err, CodeQueryTooComplex)
	}
	return err
}

// Costs: a field costs 1 plus its children; a list costs its children once per item it may
// return; advice runs the whole pipeline, searches run one index search.
const (
	adviceCost = 50
	searchCost = 10
)

// complexity prices the fields whose cost the default (1 + children) underestimates.
func complexity() generated.ComplexityRoot {
	var c generated.ComplexityRoot
	list := func(def int) func(child int, first *int) int {
		return func(child int, first *int) int {
			n, err := limit(first, def)
			if err != nil {
				n = 0
			}
			return 1 + child*n
		}
	}
	c.Advice.SimilarQuestions = list(3)
	c.Advice.Precedents = list(5)
	c.Advice.Statutes = list(10)
	c.Statute.CitedBy = list(5)
	c.Precedent.CitedBy = list(5)
	c.Query.Advice = func(child int, _ string) int { return adviceCost + child }
	c.Subscription.AdviceStream = func(child int, _ string) int { return adviceCost + child }
	c.Query.SearchStatutes = func(child int, _ string, first *int) int { return searchCost + list(10)(child, first) }
	c.Query.SearchPrecedents = func(child int, _ string, first *int, _ *model.PrecedentFilter) int {
		return searchCost + list(10)(child, first)
	}
	return c
}

type viaGETKey struct{}

// getQueriesOnly refuses a subscription sent over GET with a code (gqlgen answers a bare 406):
// GET runs queries; subscriptions need a websocket or SSE.
type getQueriesOnly struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = getQueriesOnly{}

func (getQueriesOnly) ExtensionName() string                   { return "GetQueriesOnly" }
func (getQueriesOnly) Validate(graphql.ExecutableSchema) error { return nil }
func (getQueriesOnly) MutateOperationContext(ctx context.Context, op *graphql.OperationContext) *gqlerror.Error {
	if via, _ := ctx.Value(viaGETKey{}).(bool); via && op.Operation != nil && op.Operation.Operation != ast.Query {
		forceStatus(ctx, http.StatusMethodNotAllowed)
		if h, ok := ctx.Value(headerKey{}).(http.Header); ok {
			h.Set("Allow", "POST")
		}
		return coded(CodeMethodNotAllowed, "GET runs queries only; send a "+string(op.Operation.Operation)+
			" over a websocket (graphql-transport-ws) or as a POST with Accept: text/event-stream")
	}
	return nil
}
