package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/lawbot-kr/lawbot/server"
	"github.com/lawbot-kr/lawbot/service"
	"github.com/lawbot-kr/lawbot/state"
)

func runModelServer(args []string, stdout, stderr io.Writer) error {
	ctx, stop := serverSignals()
	defer stop()
	cfg, err := parseModelServerFlags(args, stderr)
	if err != nil {
		return err
	}
	cfg.Stdout, cfg.Stderr, cfg.Reload = stdout, stderr, reloadSignals(ctx)
	return service.ModelServe(ctx, cfg)
}

func parseModelServerFlags(args []string, stderr io.Writer) (service.ModelServerConfig, error) {
	var o service.ModelServerConfig
	fs := flag.NewFlagSet("lawbot model-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.StateDir, "state", state.DefaultDir, "state directory whose models/ it hosts")
	fs.StringVar(&o.Addr, "addr", "127.0.0.1:8081", "`HOST:PORT` to listen on (port 0: any free port)")
	fs.StringVar(&o.TLSCert, "tls-cert", "", "TLS certificate (PEM `file`); with --tls-key it speaks HTTPS only")
	fs.StringVar(&o.TLSKey, "tls-key", "", "TLS private key (PEM `file`)")
	fs.StringVar(&o.Generator, "generator", "tf", "the generator it hosts: tf (STATE/models/generator.v1), tf:NAME, or extractive (none)")
	fs.StringVar(&o.Encoder, "encoder", "auto", "host the trained encoder when the state has one: auto or off")
	fs.StringVar(&o.Tagger, "tagger", "auto", "host the statute tagger when the state has one: auto or off")
	budget := fs.String("model-budget", "", "memory bound for the loaded models (e.g. 2GiB; empty: none)")
	fs.IntVar(&o.Threads, "tf-threads", 0, "TensorFlow threads per op (0: one per core)")
	fs.IntVar(&o.MaxRunning, "max-running", 2, "embedding and tagging requests run at once")
	fs.IntVar(&o.GenWaiting, "gen-waiting", 16, "generations that may wait for the one decoding (MODEL_BUSY beyond; each API server sends at most its --pipeline-slots)")
	fs.IntVar(&o.MaxWaiting, "max-waiting", 32, "embedding and tagging requests that may wait (MODEL_BUSY beyond; generations queue in the generator)")
	fs.DurationVar(&o.ShutdownTimeout, "shutdown-timeout", server.DefaultShutdownTimeout, "how long a shutdown waits for requests and streams in flight")
	fs.BoolVar(&o.LogJSON, "log-json", false, "write logs as JSON lines instead of text")
	tokenFile := fs.String("admin-token-file", "", "`file` holding the token that POST /admin/reload requires (or $LAWBOT_ADMIN_TOKEN; neither: no admin endpoint)")
	if err := parseFlags(fs, args); err != nil {
		return o, err
	}
	fail := func(format string, a ...any) (service.ModelServerConfig, error) {
		fmt.Fprintf(stderr, "lawbot model-server: "+format+"\n", a...)
		return o, errUsage
	}
	if fs.NArg() > 0 {
		return fail("unexpected argument %q", fs.Arg(0))
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return fail("--tls-cert and --tls-key go together")
	}
	for name, v := range map[string]string{"--encoder": o.Encoder, "--tagger": o.Tagger} {
		if v != "auto" && v != "off" {
			return fail("%s %q: want auto or off", name, v)
		}
	}
	if _, err := service.GeneratorModel(o.Generator); err != nil {
		return fail("%v", err)
	}
	var err error
	if o.AdminToken, err = adminToken(*tokenFile); err != nil {
		return fail("--admin-token-file: %v", err)
	}
	if *budget != "" {
		b, err := parseBytes(*budget)
		if err != nil {
			return fail("--model-budget: %v", err)
		}
		o.BudgetBytes = b
	}
	return o, nil
}
