package openai

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// The protocol's own cost for one query embedding: the same encoder called in process and
// through a model server on loopback (JSON over HTTP, the pool's pick), 256 dimensions as the
// trained encoder has. go test -bench Embedding ./openai
func BenchmarkEmbeddingInProcess(b *testing.B) {
	enc := fixedEncoder{256}
	ctx := context.Background()
	for b.Loop() {
		if _, err := enc.EmbedBatchContext(ctx, []string{"전세 계약이 끝났는데 집주인이 보증금을 안 돌려줘요"}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEmbeddingOverLoopback(b *testing.B) {
	h := NewHandler(Served{Encoder: fixedEncoder{256}, EncoderID: "encoder@bench"}, HandlerOptions{})
	mux := http.NewServeMux()
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {})
	mux.Handle("/", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	p, err := NewPool([]string{srv.URL}, PoolOptions{})
	if err != nil {
		b.Fatal(err)
	}
	p.Start(context.Background())
	defer p.Close()
	enc, err := NewRemoteEncoder(context.Background(), p)
	if err != nil || enc == nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		if _, err := enc.EmbedContext(ctx, "전세 계약이 끝났는데 집주인이 보증금을 안 돌려줘요"); err != nil {
			b.Fatal(err)
		}
	}
}
