package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"time"

	"github.com/lawbot-kr/lawbot/evaluation"
	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/loadtest"
	"github.com/lawbot-kr/lawbot/server"
)

func runBench(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "vector" {
		return benchVector(args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "advice" {
		fmt.Fprintln(stderr, "usage: lawbot bench advice --addr URL [--n N] [--c C] [--stream S] [--json]\n       lawbot bench vector --n N --dim D [--milvus ADDR [--milvus-consistency bounded,strong]] [--json]")
		return errUsage
	}
	return benchAdvice(args[1:], stdout, stderr)
}

func benchAdvice(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench advice", stderr)
	addr := fs.String("addr", "http://"+server.DefaultAddr, "server `URL` (loopback only)")
	n := fs.Int("n", 500, "requests to send (at most "+strconv.Itoa(loadtest.MaxN)+")")
	c := fs.Int("c", 8, "concurrent workers (at most "+strconv.Itoa(loadtest.MaxC)+")")
	streams := fs.Int("stream", 20, "adviceStream subscriptions over SSE to time after the load (0: none)")
	warmup := fs.Int("warmup", 10, "uncounted requests before the load")
	timeout := fs.Duration("timeout", 2*time.Minute, "stop after this long, whatever is left (at most "+loadtest.MaxTimeout.String()+")")
	dataFlag := fs.String("data", "", "corpus directory whose eval/"+evaluation.LegalQuestionsFile+" gives the questions (default $"+law.DataEnv+", else "+law.DefaultDataDir+")")
	questionsFile := fs.String("questions", "", "JSONL `file` of questions (field query or text) instead of the dev set")
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	goneAfter := fs.Duration("gone-after", 5*time.Second, "stop when the server has refused or dropped connections this long with no answer")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "lawbot bench advice: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	check := loadtest.Config{N: *n, C: *c, Streams: *streams, Warmup: *warmup, Timeout: *timeout, GoneAfter: *goneAfter, Questions: []string{"?"}}
	if err := check.Check(); err != nil {
		fmt.Fprintf(stderr, "lawbot bench advice: %v\n", err)
		return errUsage
	}
	endpoint, err := loadtest.Endpoint(*addr)
	if err != nil {
		return err
	}
	path := *questionsFile
	if path == "" {
		dataDir, err := law.ResolveDataDir(*dataFlag)
		if err != nil {
			return err
		}
		path = filepath.Join(dataDir, "eval", evaluation.LegalQuestionsFile)
	}
	items, err := evaluation.ReadDevTexts(path, true)
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return fmt.Errorf("no questions in %s", path)
	}
	questions := make([]string, len(items))
	for i, it := range items {
		questions[i] = it.Text
	}

	rep, err := loadtest.Run(loadtest.Config{Endpoint: endpoint, Questions: questions, Source: path, N: *n, C: *c,
		Streams: *streams, Warmup: *warmup, Timeout: *timeout, GoneAfter: *goneAfter, Log: stderr})
	if err != nil && rep.URL == "" {
		return err // nothing measured (the warm-up failed)
	}
	if *asJSON {
		if jerr := json.NewEncoder(stdout).Encode(rep); jerr != nil && err == nil {
			err = jerr
		}
	} else {
		printBench(stdout, rep)
	}
	return err
}

func printBench(w io.Writer, r loadtest.Report) {
	fmt.Fprintf(w, "advice  %s  %d requests, %d workers, %.1f s%s\n", r.URL, r.Requests, r.C, r.DurationS,
		map[bool]string{true: " (stopped by --timeout)", false: ""}[r.TimedOut])
	fmt.Fprintf(w, "  %.1f requests/s  p50 %.1f ms  p90 %.1f ms  p99 %.1f ms  max %.1f ms\n",
		r.RPS, r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Latency.Max)
	fmt.Fprintf(w, "  errors %d", r.Errors)
	for code, k := range r.ErrorsByCode {
		fmt.Fprintf(w, "  %s=%d", code, k)
	}
	fmt.Fprintf(w, "  (judged not legal: %d)\n", r.NonLegalCount)
	for _, x := range []struct {
		when string
		s    *loadtest.Stream
	}{{"after the load", r.Stream}, {"beside the load", r.StreamUnderLoad}} {
		if s := x.s; s != nil {
			fmt.Fprintf(w, "adviceStream over %s, %d one at a time %s: first event p50 %.1f ms p99 %.1f ms; complete p50 %.1f ms p99 %.1f ms; errors %d\n",
				s.Transport, s.N, x.when, s.FirstEvent.P50, s.FirstEvent.P99, s.Complete.P50, s.Complete.P99, s.Errors)
		}
	}
}
