package graph_test

import (
	"net/http"
	"time"

	"github.com/lawbot-kr/lawbot/advice"
	"github.com/lawbot-kr/lawbot/graph"
)

// The server mounts the API and the offline GraphiQL page; the pipeline arrives once the
// indexes are loaded, and until then requests get a coded UNAVAILABLE error.
func ExampleNewHandler() {
	var pipeline *advice.Pipeline // set when loading finishes (guard it with an atomic.Pointer)
	mux := http.NewServeMux()
	mux.Handle("/graphql", graph.NewHandler(graph.Config{
		Pipeline:       func() *advice.Pipeline { return pipeline },
		AllowedOrigins: []string{"https://lawbot.example"},
		Observe:        func(stage string, d time.Duration) { /* per-stage latency histogram */ },
		OnError:        func(code string) { /* errors-by-code counter */ },
	}))
	mux.Handle("/graphiql", graph.GraphiQLHandler("/graphql"))
	_ = http.ListenAndServe // http.ListenAndServe("127.0.0.1:8080", mux)
}
