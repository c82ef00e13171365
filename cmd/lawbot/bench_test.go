package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBenchRefusesUnboundedRuns(t *testing.T) {
	for _, args := range [][]string{
		{"advice", "--n", "1000000"},
		{"advice", "--c", "0"},
		{"advice", "--timeout", "1h"},
		{"advice", "--addr", "http://192.0.2.1:8080", "--questions", "x.jsonl"},
		{"statutes"},
	} {
		code, _, errOut := runLawbot(append([]string{"bench"}, args...)...)
		if code == 0 {
			t.Errorf("bench %v ran: %s", args, errOut)
		}
	}
}

func TestBenchAdviceServerGone(t *testing.T) {
	questions := filepath.Join(t.TempDir(), "questions.jsonl")
	if err := os.WriteFile(questions, []byte(`{"query":"전세 계약이 끝났는데 집주인이 보증금을 안 돌려줘요."}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	gone := httptest.NewServer(http.NotFoundHandler()) // a port that refuses once it is closed
	addr := strings.TrimPrefix(gone.URL, "http://")
	gone.Close()
	code, out, errOut := runLawbot("bench", "advice", "--addr", addr, "--questions", questions,
		"--warmup", "0", "--stream", "0", "--c", "2", "--gone-after", "300ms")
	want := "lawbot bench: SERVER_GONE: the server at http://" + addr + "/graphql went away (connection refused) after 0 requests"
	if code != 1 || !strings.Contains(errOut, want) || !strings.Contains(out, "advice  http://"+addr) {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s\nwant stderr %q", code, out, errOut, want)
	}
}
