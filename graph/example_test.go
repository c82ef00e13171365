package graph_test

import (
	"net/http"
	"sync/atomic"
	"time"

	"github.com/lawbot-kr/lawbot/advice"
	"github.com/lawbot-kr/lawbot/graph"
)

// The server mounts the API and the offline GraphiQL page; the pipeline arrives once the
// indexes are loaded, and until then requests get a coded UNAVAILABLE error.
func ExampleNewHandler() {
	var pipeline atomic.Pointer[advice.Pipeline] // set when loading finishes
	mux := http.NewServeMux()
	mux.Handle("/graphql", graph.NewHandler(graph.Config{
		Backend:        graph.PipelineBackend(pipeline.Load),
		AllowedOrigins: []string{"https://lawbot.example"},
		Observe:        func(stage string, d time.Duration) { /* per-stage latency histogram */ },
		OnError:        func(code string) { /* errors-by-code counter */ },
	}))
	mux.Handle("/graphiql", graph.GraphiQLHandler("/graphql"))
	_ = http.ListenAndServe // http.ListenAndServe("127.0.0.1:8080", mux)
}
