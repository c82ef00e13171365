package main

import (
	"strings"
	"testing"
	"time"
)

func TestBenchEndpoint(t *testing.T) {
	tests := []struct{ addr, want, err string }{
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080/graphql", ""},
		{"127.0.0.1:8080", "http://127.0.0.1:8080/graphql", ""},
		{"https://localhost:8443/", "https://localhost:8443/graphql", ""},
		{"http://[::1]:8080/graphql?x=1", "http://[::1]:8080/graphql", ""},
		{"http://127.0.0.2:9000", "http://127.0.0.2:9000/graphql", ""},
		{"http://10.0.0.5:8080", "", "only targets loopback"},
		{"http://example.com", "", "only targets loopback"},
		{"http://localhost.example.com", "", "only targets loopback"},
		{"ftp://127.0.0.1", "", "want an http or https URL"},
	}
	for _, tt := range tests {
		got, err := benchEndpoint(tt.addr)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("benchEndpoint(%q) = %q, %v; want an error with %q", tt.addr, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("benchEndpoint(%q) = %q, %v; want %q", tt.addr, got, err, tt.want)
		}
	}
}

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

func TestBenchSummary(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	s := benchSummary(ds)
	if s.P50 != 50 || s.P99 != 99 || s.Max != 100 || s.Mean != 50.5 {
		t.Errorf("summary %+v", s)
	}
	if s := benchSummary(nil); s != (benchLatency{}) {
		t.Errorf("empty summary %+v", s)
	}
}
