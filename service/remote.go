package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/lawbot-kr/lawbot/advice"
	"github.com/lawbot-kr/lawbot/index"
	"github.com/lawbot-kr/lawbot/openai"
)

// RemoteConfig names the model servers an API server calls instead of loading the TensorFlow
// models itself (lawbot serve --models).
type RemoteConfig struct {
	// Servers are the model servers' base URLs (http:// or https://): LawBot's model-server
	// replicas, or any engine speaking the OpenAI-compatible API.
	Servers []string
	// CAFile trusts the servers' TLS certificate; APIKey is sent as a bearer token.
	CAFile, APIKey string
	// Wait bounds how long the start waits for a ready replica (default 60 s); past it the API
	// server starts anyway and answers without the models (coded degradations) until one is.
	Wait time.Duration
}

// Remote are the models served by model servers: the pools of replicas and the clients that
// stand in for the in-process models.
type Remote struct {
	Pools     []*openai.Pool
	Generator *openai.RemoteGenerator // nil: not asked for
	Encoder   *openai.RemoteEncoder   // nil: the servers have none, or none was ready at start
	Tagger    *openai.RemoteTagger
}

// Close stops the pools' health checks.
func (r *Remote) Close() {
	if r == nil {
		return
	}
	for _, p := range r.Pools {
		p.Close()
	}
}

// OpenAIGenerator parses --generator openai://HOST:PORT/MODEL (an external engine, e.g.
// llama.cpp's server; openais:// for TLS): its base URL and model ("" when the path is
// empty: the engine's only model).
func OpenAIGenerator(choice string) (base, model string, ok bool, err error) {
	scheme, rest, found := strings.Cut(choice, "://")
	if !found || (scheme != "openai" && scheme != "openais") {
		return "", "", false, nil
	}
	u, perr := url.Parse("http://" + rest)
	if perr != nil || u.Host == "" || u.Port() == "" {
		return "", "", true, fmt.Errorf("--generator %q: want openai://HOST:PORT/MODEL", choice)
	}
	base = "http://" + u.Host
	if scheme == "openais" {
		base = "https://" + u.Host
	}
	return base, strings.TrimPrefix(u.Path, "/"), true, nil
}

// connectRemote sets up the clients of the model servers: the --models pool (generator when
// asked for, encoder unless --embedder lsa, tagger when wanted) and an external generator's
// pool. It waits a bounded time for a ready replica; without one it goes on (the clients
// learn their models later, the encoder and the tagger stay off).
func connectRemote(ctx context.Context, o ModelConfig, wantGenerator, wantTagger bool, log *slog.Logger) (*Remote, error) {
	base, model, external, err := OpenAIGenerator(o.Generator)
	if err != nil {
		return nil, err
	}
	if len(o.Remote.Servers) == 0 && !external {
		return nil, nil
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	wait := o.Remote.Wait
	if wait <= 0 {
		wait = 60 * time.Second
	}
	rem := &Remote{}
	ok := false
	defer func() {
		if !ok {
			rem.Close()
		}
	}()
	start := func(urls []string, health string) (*openai.Pool, bool, error) {
		p, err := openai.NewPool(urls, openai.PoolOptions{CAFile: o.Remote.CAFile, APIKey: o.Remote.APIKey, HealthPath: health, Logger: log})
		if err != nil {
			return nil, false, err
		}
		p.Start(context.WithoutCancel(ctx))
		rem.Pools = append(rem.Pools, p)
		wctx, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		if err := p.WaitReady(wctx); err != nil {
			if ctx.Err() != nil {
				return nil, false, ctx.Err()
			}
			log.Warn("no model server ready yet; answering without its models until one is", "servers", urls, "waited", wait)
			return p, false, nil
		}
		return p, true, nil
	}
	if len(o.Remote.Servers) > 0 {
		p, ready, err := start(o.Remote.Servers, "/readyz")
		if err != nil {
			return nil, err
		}
		if wantGenerator && !external {
			if rem.Generator, err = openai.NewRemoteGenerator(ctx, p, "", 0); err != nil {
				return nil, err
			}
		}
		if ready && o.Embedder != "lsa" {
			if rem.Encoder, err = openai.NewRemoteEncoder(ctx, p); err != nil {
				return nil, err
			}
		}
		if ready && wantTagger {
			if rem.Tagger, err = openai.NewRemoteTagger(ctx, p); err != nil {
				return nil, err
			}
		}
	}
	if external {
		// Other engines answer /health (llama.cpp, vLLM, TGI), not LawBot's /readyz.
		p, _, err := start([]string{base}, "/health")
		if err != nil {
			return nil, err
		}
		if rem.Generator, err = openai.NewRemoteGenerator(ctx, p, model, 0); err != nil {
			return nil, err
		}
	}
	if rem.Generator != nil {
		log.Info("the generator is remote", "model", rem.Generator.Name(), "context", rem.Generator.MaxContext())
	}
	ok = true
	return rem, nil
}

// TextGenerator is the generator in use: the model servers' or the in-process one; nil when
// the answer is extractive.
func (t *Models) TextGenerator() advice.TextGenerator {
	switch {
	case t.Remote != nil && t.Remote.Generator != nil:
		return t.Remote.Generator
	case t.Generator != nil:
		return t.Generator
	}
	return nil
}

// articleTagger is the statute tagger in use, remote or in process; nil when none.
func (t *Models) articleTagger() advice.ArticleTagger {
	switch {
	case t.Remote != nil && t.Remote.Tagger != nil:
		return t.Remote.Tagger
	case t.Tagger != nil:
		return t.Tagger
	}
	return nil
}

// denseEncoder is the trained encoder in use and its version (which the corpus's vectors must
// match); nil when the LSA serves the dense side.
func (t *Models) denseEncoder() (index.BatchEmbedder, string, error) {
	switch {
	case t.Remote != nil && t.Remote.Encoder != nil:
		return t.Remote.Encoder, t.Remote.Encoder.Version(), nil
	case t.Encoder != nil:
		v, err := index.EncoderVersion(t.Encoder.Dir())
		return t.Encoder, v, err
	}
	return nil, "", nil
}

var errRemoteName = errors.New("--generator tf:NAME picks a model of this state; with --models the model servers choose (use --generator tf)")
