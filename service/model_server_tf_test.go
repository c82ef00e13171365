//go:build tensorflow

package service

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lawbot-kr/lawbot/models"
	"github.com/lawbot-kr/lawbot/openai"
)

// TestTFModelServerMatchesInProcess: lawbot model-server hosting the real generator, and an API
// side calling it through the pool (serve --models): the remote generator's greedy text equals
// the in-process generator's on the same prompt, piece by piece as it streams; /v1/models names
// it; a stopped model server leaves a coded MODELS_UNAVAILABLE at once.
func TestTFModelServerMatchesInProcess(t *testing.T) {
	src := os.Getenv("LAWBOT_GENERATOR_DIR")
	if src == "" {
		t.Skip("LAWBOT_GENERATOR_DIR not set (python training/gemma_convert.py --out D; then D/generator)")
	}
	root := t.TempDir()
	dir := withGeneratorModel(t, filepath.Join(root, "versions", "v1"), src)
	withGeneratorModel(t, filepath.Join(root, "versions", "v2"), src)
	point(t, root, "v1")
	const token = "model-server-token-0123456789"
	ctx, stop := context.WithCancel(context.Background())
	addr := make(chan net.Addr, 1)
	served := make(chan error, 1)
	go func() {
		served <- ModelServe(ctx, ModelServerConfig{StateDir: root, Addr: "127.0.0.1:0", Generator: "tf", Threads: 1, AdminToken: token,
			OnListen: func(a net.Addr) { addr <- a }})
	}()
	base := "http://" + (<-addr).String()

	remote, err := LoadModels(context.Background(), t.TempDir(), ModelConfig{Embedder: "lsa", Tagger: "off", Generator: "tf",
		Remote: RemoteConfig{Servers: []string{base}, Wait: 2 * time.Minute}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer remote.Close()
	local, err := LoadModels(context.Background(), dir, ModelConfig{Embedder: "lsa", Tagger: "off", Generator: "tf", Threads: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	rg, lg := remote.TextGenerator(), local.TextGenerator()
	if rg == nil || rg.Name() != lg.Name() || rg.MaxContext() != lg.MaxContext() {
		t.Fatalf("remote generator %v, want %q", rg, lg.Name())
	}
	prompt := "질문: 전세 계약이 끝났는데 집주인이 보증금을 안 돌려줘요.\n\n답변:\n"
	if rc, lc := rg.CountTokens(prompt), lg.CountTokens(prompt); rc != lc {
		t.Errorf("remote count %d, in process %d", rc, lc)
	}
	opt := models.GenerateOptions{MaxTokens: 12}
	var rp, lp []string
	rs, err := rg.Generate(context.Background(), prompt, opt, func(p string) error { rp = append(rp, p); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lg.Generate(context.Background(), prompt, opt, func(p string) error { lp = append(lp, p); return nil }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(rp, "") != strings.Join(lp, "") || len(rp) < 2 {
		t.Errorf("remote %q, in process %q", rp, lp)
	}
	if rs.Tokens != 12 || rs.PromptTokens != lg.CountTokens(prompt)+1 || rs.StopReason != "length" {
		t.Errorf("remote stats %+v", rs)
	}
	resp, err := http.Get(base + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	var l openai.ModelList
	json.NewDecoder(resp.Body).Decode(&l)
	resp.Body.Close()
	if len(l.Data) != 1 || l.Data[0].ID != lg.Name() || l.Data[0].Lawbot.Kind != openai.KindGenerator {
		t.Errorf("/v1/models %+v", l)
	}

	// A reload while a generation streams: the generation finishes on the models it began on,
	// the next one runs on the new version's.
	point(t, root, "v2")
	var during []string
	genDone := make(chan error, 1)
	go func() {
		_, err := rg.Generate(context.Background(), prompt, models.GenerateOptions{MaxTokens: 24}, func(p string) error {
			during = append(during, p)
			return nil
		})
		genDone <- err
	}()
	time.Sleep(500 * time.Millisecond)
	if code, body := adminReload(t, base+"/", token); code != http.StatusOK || !strings.Contains(body, `"version":"v2"`) {
		t.Errorf("reload: %d %s", code, body)
	}
	if err := <-genDone; err != nil || len(during) < 2 {
		t.Errorf("the generation across the reload: %d pieces, %v", len(during), err)
	}
	var after []string
	if _, err := rg.Generate(context.Background(), prompt, opt, func(p string) error { after = append(after, p); return nil }); err != nil ||
		strings.Join(after, "") != strings.Join(lp, "") {
		t.Errorf("after the reload: %q %v, want %q", after, err, lp)
	}

	stop()
	if err := <-served; err != nil {
		t.Errorf("model server: %v", err)
	}
	start := time.Now()
	_, err = rg.Generate(context.Background(), prompt, opt, func(string) error { return nil })
	if !errors.Is(err, models.ErrModelsUnavailable) || time.Since(start) > 5*time.Second {
		t.Errorf("model server gone: %v after %s, want MODELS_UNAVAILABLE at once", err, time.Since(start))
	}
}
