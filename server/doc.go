// Package server is LawBot's HTTP front: the routes (/graphql, /graphiql, /healthz, /readyz,
// /metrics), the limits every request passes (body size, per-client rate, panic recovery),
// access logs with personal data redacted, Prometheus metrics, TLS and graceful shutdown.
//
// The GraphQL handler is passed in as a plain http.Handler, so this package never depends on
// the schema; cmd/lawbot/serve.go wires the two together.
package server
