package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// budget is the cost model every operation passes before gqlgen validates or runs it, over
// POST, GET, SSE and websockets alike. Validation itself is the cost it guards: gqlparser's
// OverlappingFieldsCanBeMerged is quadratic in the fields of a selection set and fragments
// multiply what a short text selects, so the document is parsed here (linear, under the token
// limit) and measured with fragments expanded — memoized and saturating, so the measurement
// stays linear whatever the expansion would be — and anything over a limit is refused before
// the validator sees it. A document gqlgen has already validated (in its query cache) passed
// here before and is not measured again.
type budget struct {
	limits Limits
	// seen returns the document when gqlgen's cache holds it (validated before).
	seen func(ctx context.Context, query string) (*ast.QueryDocument, bool)
}

// Limits bound what one GraphQL document may ask for; zero fields take the defaults.
type Limits struct {
	// Tokens caps the lexical tokens of a document (default 1,000; GraphiQL's own
	// introspection query, all options on, counts 179 by the parser's measure).
	Tokens int
	// Selections caps the fields a document selects, counted with every fragment spread
	// expanded, over all its operations (default 1,000): QUERY_TOO_LARGE beyond.
	Selections int
	// SetFields caps the fields of one selection set after its fragments are merged into it
	// (default 100; the widest type here has 12 fields): the validator compares them pairwise.
	SetFields int
	// Fragments, Variables and Operations cap the definitions of one document (defaults 50,
	// 50 and 20).
	Fragments, Variables, Operations int
	// PipelineRuns caps the advice / adviceStream fields of one operation (default 1):
	// QUERY_TOO_COMPLEX beyond.
	PipelineRuns int
	// NoIntrospection turns __schema and __type off: INTROSPECTION_DISABLED.
	NoIntrospection bool
	// Errors caps the errors one response lists (default 20); the last one says how many
	// more there were.
	Errors int
}

// Defaults for Limits' zero fields.
const (
	DefaultMaxTokens       = 1000
	DefaultMaxSelections   = 1000
	DefaultMaxSetFields    = 100
	DefaultMaxFragments    = 50
	DefaultMaxVariables    = 50
	DefaultMaxOperations   = 20
	DefaultMaxPipelineRuns = 1
	DefaultMaxErrors       = 20
)

func (l Limits) withDefaults() Limits {
	orDefault(&l.Tokens, DefaultMaxTokens)
	orDefault(&l.Selections, DefaultMaxSelections)
	orDefault(&l.SetFields, DefaultMaxSetFields)
	orDefault(&l.Fragments, DefaultMaxFragments)
	orDefault(&l.Variables, DefaultMaxVariables)
	orDefault(&l.Operations, DefaultMaxOperations)
	orDefault(&l.PipelineRuns, DefaultMaxPipelineRuns)
	orDefault(&l.Errors, DefaultMaxErrors)
	return l
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
	graphql.ResponseInterceptor
} = budget{}

func (budget) ExtensionName() string                   { return "Budget" }
func (budget) Validate(graphql.ExecutableSchema) error { return nil }

func (b budget) MutateOperationParameters(ctx context.Context, params *graphql.RawParams) *gqlerror.Error {
	doc, ok := (*ast.QueryDocument)(nil), false
	if b.seen != nil {
		doc, ok = b.seen(ctx, params.Query)
	}
	if !ok {
		var err *gqlerror.Error
		if doc, err = b.check(params.Query); err != nil || doc == nil {
			return err
		}
	}
	return checkIntVariables(doc, params.OperationName, params.Variables)
}

// checkIntVariables refuses a non-integer number for an Int variable with a message that names
// it: gqlparser's coercion says "cannot use value 0 as Int" for 1.5.
func checkIntVariables(doc *ast.QueryDocument, operation string, vars map[string]any) *gqlerror.Error {
	op := doc.Operations.ForName(operation)
	if op == nil || len(vars) == 0 {
		return nil
	}
	for _, def := range op.VariableDefinitions {
		v, ok := vars[def.Variable]
		if !ok || def.Type == nil {
			continue
		}
		if bad, ok := nonInteger(def.Type, v); ok {
			err := coded(errcode.ValidationFailed, fmt.Sprintf("variable $%s: %s cannot represent the non-integer value %s", def.Variable, def.Type.String(), bad))
			err.Path = ast.Path{ast.PathName("variable"), ast.PathName(def.Variable)}
			return err
		}
	}
	return nil
}

// nonInteger finds a number that is not an integer where typ wants Int (or a list of Int).
func nonInteger(typ *ast.Type, v any) (string, bool) {
	if typ.Elem != nil {
		list, _ := v.([]any)
		for _, item := range list {
			if bad, ok := nonInteger(typ.Elem, item); ok {
				return bad, true
			}
		}
		return "", false
	}
	if typ.NamedType != "Int" {
		return "", false
	}
	switch n := v.(type) {
	case json.Number:
		if _, err := n.Int64(); err != nil {
			return n.String(), true
		}
	case float64:
		if n != math.Trunc(n) {
			return strconv.FormatFloat(n, 'g', -1, 64), true
		}
	}
	return "", false
}

// InterceptResponse shortens a long error list (thousands of unused variables once made a
// 332 KB answer): the first Errors-1 errors, then one saying how many were left out.
func (b budget) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp != nil && len(resp.Errors) > b.limits.Errors {
		keep := b.limits.Errors - 1
		rest := len(resp.Errors) - keep
		code, _ := resp.Errors[keep].Extensions["code"].(string)
		resp.Errors = append(resp.Errors[:keep:keep], &gqlerror.Error{
			Message:    fmt.Sprintf("and %d more errors like the ones above", rest),
			Extensions: map[string]any{"code": code},
		})
	}
	return resp
}

// check measures one document and returns it parsed. A document that does not parse is left
// to gqlgen, which reports where — except one over the token limit, which is refused here with
// our code.
func (b budget) check(query string) (*ast.QueryDocument, *gqlerror.Error) {
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, b.limits.Tokens)
	if err != nil {
		if strings.Contains(err.Error(), "token limit") {
			return nil, coded(CodeQueryTooLarge, fmt.Sprintf("the query is longer than %d tokens", b.limits.Tokens))
		}
		return nil, nil
	}
	return doc, b.measure(doc)
}

func (b budget) measure(doc *ast.QueryDocument) *gqlerror.Error {
	l := b.limits
	switch {
	case len(doc.Operations) > l.Operations:
		return coded(CodeQueryTooLarge, fmt.Sprintf("the document defines %d operations; the limit is %d", len(doc.Operations), l.Operations))
	case len(doc.Fragments) > l.Fragments:
		return coded(CodeQueryTooLarge, fmt.Sprintf("the document defines %d fragments; the limit is %d", len(doc.Fragments), l.Fragments))
	}
	vars := 0
	for _, op := range doc.Operations {
		vars += len(op.VariableDefinitions)
	}
	if vars > l.Variables {
		return coded(CodeQueryTooLarge, fmt.Sprintf("the document declares %d variables; the limit is %d", vars, l.Variables))
	}

	m := measure{frags: map[string]*ast.FragmentDefinition{}, memo: map[string]int{}, visiting: map[string]bool{}, cap: l.Selections + 1}
	for _, f := range doc.Fragments {
		m.frags[f.Name] = f
	}
	total := 0
	for _, op := range doc.Operations {
		total = m.add(total, m.count(op.SelectionSet))
		if m.cycle != "" {
			return coded(CodeQueryTooComplex, fmt.Sprintf("fragment %s spreads itself", m.cycle))
		}
	}
	if total > l.Selections {
		return coded(CodeQueryTooLarge, fmt.Sprintf("the query selects more than %d fields (fragments expanded); the limit is %d", l.Selections, l.Selections))
	}
	// Within the selection cap the expanded walk below is bounded too.
	for _, op := range doc.Operations {
		if err := m.shape(op, l); err != nil {
			return err
		}
	}
	return nil
}

// measure counts selections with fragments expanded, memoized per fragment and saturating at
// cap, so a fragment spread twice in each of n nested fragments costs n steps, not 2^n.
type measure struct {
	frags    map[string]*ast.FragmentDefinition
	memo     map[string]int
	visiting map[string]bool
	cycle    string
	cap      int
}

func (m *measure) add(a, b int) int { return min(a+b, m.cap) }

func (m *measure) count(set ast.SelectionSet) int {
	n := 0
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			n = m.add(n, m.add(1, m.count(s.SelectionSet)))
		case *ast.InlineFragment:
			n = m.add(n, m.count(s.SelectionSet))
		case *ast.FragmentSpread:
			n = m.add(n, m.fragment(s.Name))
		}
		if n >= m.cap {
			return n
		}
	}
	return n
}

func (m *measure) fragment(name string) int {
	if c, ok := m.memo[name]; ok {
		return c
	}
	f := m.frags[name]
	if f == nil {
		return 0 // unknown: validation says so
	}
	if m.visiting[name] {
		if m.cycle == "" {
			m.cycle = name
		}
		return 0
	}
	m.visiting[name] = true
	c := m.count(f.SelectionSet)
	delete(m.visiting, name)
	m.memo[name] = c
	return c
}

// fieldsOf lists the fields of one selection set with its fragments merged in (what the
// validator compares pairwise), stopping past max.
func (m *measure) fieldsOf(set ast.SelectionSet, out []*ast.Field, max int, depth int) []*ast.Field {
	if depth > len(m.frags)+1 {
		return out // a cycle; reported by count
	}
	for _, s := range set {
		if len(out) > max {
			return out
		}
		switch s := s.(type) {
		case *ast.Field:
			out = append(out, s)
		case *ast.InlineFragment:
			out = m.fieldsOf(s.SelectionSet, out, max, depth+1)
		case *ast.FragmentSpread:
			if f := m.frags[s.Name]; f != nil {
				out = m.fieldsOf(f.SelectionSet, out, max, depth+1)
			}
		}
	}
	return out
}

// introspectionLists are the list fields of the introspection types: selecting one under two
// aliases multiplies the answer by the size of the schema. __schema and __type themselves are
// held to one response name too (a hundred aliases of __schema, each three lists deep, would
// answer 600,000 values within the selection cap).
var introspectionLists = map[string]bool{"types": true, "directives": true, "fields": true, "args": true,
	"inputFields": true, "interfaces": true, "possibleTypes": true, "enumValues": true, "locations": true}

// shape checks what the counts do not: the width of each selection set, the advice fields of
// the operation, and aliased introspection lists.
func (m *measure) shape(op *ast.OperationDefinition, l Limits) *gqlerror.Error {
	root := m.fieldsOf(op.SelectionSet, nil, l.SetFields, 0)
	runs := 0
	for _, f := range root {
		if f.Name == "advice" || f.Name == "adviceStream" {
			runs++
		}
	}
	if runs > l.PipelineRuns {
		return coded(CodeQueryTooComplex, fmt.Sprintf("an operation may ask for advice %d time(s); this one asks %d times", l.PipelineRuns, runs))
	}
	return m.walk(op.SelectionSet, false, l)
}

func (m *measure) walk(set ast.SelectionSet, introspection bool, l Limits) *gqlerror.Error {
	fields := m.fieldsOf(set, nil, l.SetFields, 0)
	if len(fields) > l.SetFields {
		return coded(CodeQueryTooLarge, fmt.Sprintf("a selection set has more than %d fields; the limit is %d", l.SetFields, l.SetFields))
	}
	var aliases map[string]string // introspection list field → its response name
	for _, f := range fields {
		in := introspection
		if f.Name == "__schema" || f.Name == "__type" {
			if l.NoIntrospection {
				return coded(CodeIntrospectionDisabled, "introspection is turned off on this server")
			}
			in = true
		}
		if (in && introspectionLists[f.Name]) || f.Name == "__schema" || f.Name == "__type" {
			if aliases == nil {
				aliases = map[string]string{}
			}
			name := f.Alias
			if name == "" {
				name = f.Name
			}
			if prev, ok := aliases[f.Name]; ok && prev != name {
				return coded(CodeQueryTooComplex, fmt.Sprintf("introspection may select %s once per object (it is selected as %s and %s)", f.Name, prev, name))
			}
			aliases[f.Name] = name
		}
		if len(f.SelectionSet) > 0 {
			if err := m.walk(f.SelectionSet, in, l); err != nil {
				return err
			}
		}
	}
	return nil
}
