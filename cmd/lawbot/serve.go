package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/lawbot-kr/lawbot/advice"
	"github.com/lawbot-kr/lawbot/graph"
	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/server"
	"github.com/lawbot-kr/lawbot/service"
	"github.com/lawbot-kr/lawbot/state"
)

func runServe(args []string, stdout, stderr io.Writer) error {
	ctx, stop := serverSignals()
	defer stop()
	return serveWith(ctx, args, reloadSignals(ctx), stdout, stderr)
}

// serverSignals is a long-running server's context: Ctrl-C or SIGTERM begins the graceful
// shutdown, a second Ctrl-C during it quits at once (the signal is let go after the first).
func serverSignals() (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	return ctx, stop
}

// reloadSignals turns SIGHUP into reloads (the version `current` points at, swapped in without
// dropping a request) until ctx ends; a signal while one is waiting is folded into it.
func reloadSignals(ctx context.Context) <-chan struct{} {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	reload := make(chan struct{}, 1)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				select {
				case reload <- struct{}{}:
				default: // one already waiting
				}
			}
		}
	}()
	return reload
}

func parseServeFlags(args []string, stderr io.Writer) (service.ServeConfig, error) {
	var o service.ServeConfig
	fs := newFlags("serve", stderr)
	fs.StringVar(&o.DataDir, "data", "", "corpus directory (default $"+law.DataEnv+", else "+law.DefaultDataDir+"); the state is ingested from it when missing or stale")
	fs.StringVar(&o.StateDir, "state", state.DefaultDir, "state directory")
	fs.StringVar(&o.Addr, "addr", server.DefaultAddr, "`HOST:PORT` to listen on (port 0: any free port)")
	fs.StringVar(&o.TLSCert, "tls-cert", "", "TLS certificate (PEM `file`); with --tls-key the server speaks HTTPS only")
	fs.StringVar(&o.TLSKey, "tls-key", "", "TLS private key (PEM `file`)")
	fs.Float64Var(&o.Rate, "rate", server.DefaultRate, "requests per second allowed per client IP (0: no limit)")
	fs.IntVar(&o.Burst, "burst", server.DefaultBurst, "requests a client may send at once before --rate applies")
	fs.Int64Var(&o.MaxBody, "max-body", server.DefaultMaxBodyBytes, "largest request body in `bytes` (413 REQUEST_TOO_LARGE beyond)")
	origins := fs.String("allowed-origins", "", "comma-separated browser origins allowed to open websockets (default: the server's own; * for any)")
	fs.DurationVar(&o.ShutdownTimeout, "shutdown-timeout", server.DefaultShutdownTimeout, "how long a shutdown waits for requests and streams in flight")
	fs.DurationVar(&o.RequestTimeout, "request-timeout", graph.DefaultRequestTimeout, "limit on one advice run")
	fs.IntVar(&o.MaxDepth, "max-depth", graph.DefaultMaxDepth, "deepest query nesting allowed")
	fs.IntVar(&o.MaxComplexity, "max-complexity", graph.DefaultMaxComplexity, "costliest query allowed")
	fs.IntVar(&o.Limits.Selections, "max-selections", graph.DefaultMaxSelections, "most fields a query may select, fragments expanded (QUERY_TOO_LARGE beyond)")
	introspection := fs.Bool("introspection", true, "answer __schema and __type (GraphiQL needs them; false for production: INTROSPECTION_DISABLED)")
	fs.DurationVar(&o.BodyTimeout, "body-timeout", server.DefaultBodyTimeout, "longest a request body may take to arrive (408 REQUEST_TIMEOUT beyond)")
	fs.IntVar(&o.MaxConnsPerClient, "max-conns-per-client", server.DefaultMaxConnsPerClient, "connections one IP address may hold open (more are closed at accept; -1: no cap)")
	fs.IntVar(&o.MaxOpsPerSocket, "max-ops-per-socket", graph.DefaultMaxOpsPerSocket, "operations one websocket may run at once (TOO_MANY_OPERATIONS beyond)")
	fs.IntVar(&o.MaxOpsPerClient, "max-ops-per-client", graph.DefaultMaxOpsPerClient, "operations one IP address may run at once over all its websockets")
	fs.IntVar(&o.PipelineSlots, "pipeline-slots", 0, "advice pipelines run at once (default: the CPU count, at least 2; each client gets half; OVERLOADED beyond)")
	fs.BoolVar(&o.LogJSON, "log-json", false, "write logs as JSON lines instead of text")
	fs.StringVar(&o.VectorStore, "vector-store", "embedded", service.VectorStoreUsage)
	finishModels := modelFlags(fs, &o.Models)
	trustedProxies := fs.String("trusted-proxies", "", "comma-separated proxy `CIDRs` (e.g. 127.0.0.1,10.0.0.0/8) whose X-Forwarded-For names the client the per-client limits count (HAProxy, an ingress in front)")
	tokenFile := fs.String("admin-token-file", "", "`file` holding the token that POST /admin/reload requires (or $LAWBOT_ADMIN_TOKEN; neither: no admin endpoint)")
	var params listFlag
	fs.Var(&params, "param", "override a pipeline parameter, name=value (repeatable; the names of lawbot eval --param, e.g. gen_max_tokens=64)")
	servers := fs.String("models", "", "model servers' base `URLs`, comma-separated (lawbot model-server or any OpenAI-compatible engine): the TensorFlow models run there, not here")
	fs.StringVar(&o.Models.Remote.CAFile, "models-ca", "", "CA certificate (PEM `file`) the model servers' TLS certificates are checked against")
	fs.DurationVar(&o.Models.Remote.Wait, "models-wait", 60*time.Second, "how long the start waits for a ready model server (then serves without the models until one is)")
	if err := parseFlags(fs, args); err != nil {
		return o, err
	}
	for _, u := range strings.Split(*servers, ",") {
		if u = strings.TrimSpace(u); u != "" {
			o.Models.Remote.Servers = append(o.Models.Remote.Servers, u)
		}
	}
	o.Models.Remote.APIKey = os.Getenv("LAWBOT_MODELS_API_KEY")
	check := advice.DefaultParams()
	for _, p := range params {
		if err := check.Set(p); err != nil {
			fmt.Fprintf(stderr, "lawbot serve: --param: %v\n", err)
			return o, errUsage
		}
	}
	o.Params = params
	var err error
	if o.AdminToken, err = adminToken(*tokenFile); err != nil {
		fmt.Fprintf(stderr, "lawbot serve: --admin-token-file: %v\n", err)
		return o, errUsage
	}
	if o.TrustedProxies, err = server.ParsePrefixes(*trustedProxies); err != nil {
		fmt.Fprintf(stderr, "lawbot serve: --trusted-proxies: %v\n", err)
		return o, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "lawbot serve: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return o, errUsage
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		fmt.Fprintln(stderr, "lawbot serve: --tls-cert and --tls-key go together")
		return o, errUsage
	}
	if err := finishModels(); err != nil {
		fmt.Fprintf(stderr, "lawbot serve: %v\n", err)
		return o, errUsage
	}
	o.Limits.NoIntrospection = !*introspection
	for _, s := range strings.Split(*origins, ",") {
		if s = strings.TrimSpace(s); s != "" {
			o.AllowedOrigins = append(o.AllowedOrigins, s)
		}
	}
	return o, nil
}

// serve parses lawbot serve's flags and serves until ctx ends (see service.Serve).
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return serveWith(ctx, args, nil, stdout, stderr)
}

// serveWith is serve, reloading the state whenever reload receives.
func serveWith(ctx context.Context, args []string, reload <-chan struct{}, stdout, stderr io.Writer) error {
	cfg, err := parseServeFlags(args, stderr)
	if err != nil {
		return err
	}
	cfg.Stdout, cfg.Stderr, cfg.Reload = stdout, stderr, reload
	return service.Serve(ctx, cfg)
}

// adminToken reads the admin token: the file's first line, else $LAWBOT_ADMIN_TOKEN; "" when
// neither is set. A token file that is empty or shorter than 16 characters is refused.
func adminToken(file string) (string, error) {
	tok := os.Getenv(AdminTokenEnv)
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		tok, _, _ = strings.Cut(string(b), "\n")
	}
	tok = strings.TrimSpace(tok)
	if tok != "" && len(tok) < 16 {
		return "", fmt.Errorf("the admin token has %d characters; use at least 16", len(tok))
	}
	return tok, nil
}
