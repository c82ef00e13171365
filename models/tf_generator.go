//go:build tensorflow

package models

/*
#include <tensorflow/c/c_api.h>
*/
import "C"

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"sync"
	"unsafe"

	tf "github.com/wamuir/graft/tensorflow"
)

// TFGenerator serves the generator (training/gemma_convert.py): a causal language model as a
// SavedModel with two signatures around a KV cache,
//
//	prefill(token_ids int32 [1, T])                      -> logits float32 [1, vocab], cache
//	decode(token_id int32 [1, 1], cache, position int32) -> logits, cache
//
// and its SentencePiece tokenizer.model. One session serves every request; its queue lets
// GeneratorLimits.Parallel generations decode at once and GeneratorLimits.Waiting more wait.
type TFGenerator struct {
	dir     string
	info    generatorJSON
	name    string
	saved   *tf.SavedModel
	tok     *SentencePiece
	dec     *decoder
	bytes   int64
	devices []Device

	prefillIDs, prefillLogits, prefillCache tf.Output
	decodeID, decodeCache, decodePos        tf.Output
	decodeLogits, decodeCacheOut            tf.Output
	mu                                      sync.RWMutex // held (read) by each run; Close takes it
	closed                                  bool
	beforeStep                              func() // tests: runs before each decode step
	checksum                                string // of the SavedModel's files, as model.json has it
	freeable                                bool   // the cache tensors can be freed at once
}

// generatorJSON is the part of the generator's model.json serving uses.
type generatorJSON struct {
	Name         string `json:"name"`
	Version      int    `json:"version"`
	Architecture string `json:"architecture"`
	Source       struct {
		Package string `json:"package"`
		Version string `json:"version"`
		SHA256  string `json:"sha256"`
	} `json:"source"`
	MaxContext int    `json:"max_context"`
	Vocab      int    `json:"vocab"`
	BOS        int32  `json:"bos"`
	EOS        int32  `json:"eos"`
	AddBOS     bool   `json:"add_bos"`
	Tokenizer  string `json:"tokenizer"`
	Checksum   string `json:"saved_model_sha256"`
}

var (
	_ languageModel  = (*TFGenerator)(nil)
	_ generatorModel = (*TFGenerator)(nil)
)

// LoadTFGenerator loads the generator in dir with session options opt and the default limits.
func LoadTFGenerator(dir string, opt TFOptions) (*TFGenerator, error) {
	return LoadTFGeneratorWith(dir, opt, GeneratorLimits{})
}

// LoadTFGeneratorWith loads the generator in dir: model.json, the SavedModel (whose files must
// match model.json's checksum: a truncated or damaged model fails here, not mid-answer), the
// tokeniser; then it runs one prefill and one decode step (TensorFlow optimises a graph on its
// first run) and checks the logits' width against the vocabulary.
func LoadTFGeneratorWith(dir string, opt TFOptions, lim GeneratorLimits) (*TFGenerator, error) {
	fail := func(format string, a ...any) error {
		return fmt.Errorf("generator %s: %s", dir, fmt.Sprintf(format, a...))
	}
	b, err := os.ReadFile(filepath.Join(dir, "model.json"))
	if err != nil {
		return nil, fmt.Errorf("generator: %w", err)
	}
	g := &TFGenerator{dir: dir}
	if err := json.Unmarshal(b, &g.info); err != nil {
		return nil, fail("model.json: %v", err)
	}
	if g.info.MaxContext < 2 || g.info.Vocab < 1 {
		return nil, fail("model.json: max_context %d, vocab %d", g.info.MaxContext, g.info.Vocab)
	}
	if g.info.Tokenizer == "" {
		g.info.Tokenizer = GeneratorTokenizerFile
	}
	// The checksum reads ~1 GB: alongside TensorFlow's load of the same files.
	sum := make(chan error, 1)
	go func() { sum <- g.verifyChecksum() }()
	summed := false
	waitSum := func() error {
		if summed {
			return nil
		}
		summed = true
		return <-sum
	}
	ok := false
	defer func() {
		if !ok {
			waitSum() // never leave the reader behind a failed load
		}
	}()
	if g.tok, err = LoadSentencePiece(filepath.Join(dir, g.info.Tokenizer)); err != nil {
		return nil, fail("%v", err)
	}
	if g.tok.VocabSize() != g.info.Vocab {
		return nil, fail("the tokeniser has %d pieces, model.json says vocab %d", g.tok.VocabSize(), g.info.Vocab)
	}
	so, err := sessionOptions(opt)
	if err != nil {
		return nil, err
	}
	saved, err := tf.LoadSavedModel(dir, []string{"serve"}, so)
	if err != nil {
		return nil, fail("load (tag serve): %v", err)
	}
	g.saved = saved
	defer func() {
		if !ok {
			saved.Session.Close()
		}
	}()
	if err := g.resolve(); err != nil {
		return nil, fail("%v", err)
	}
	g.freeable = canFreeTensors()
	ends := []int32{g.info.EOS}
	if id, found := g.tok.ControlID("<end_of_turn>"); found {
		ends = append(ends, id)
	}
	g.dec = &decoder{model: g, pieces: g.tok, ends: ends, maxContext: g.info.MaxContext, queue: newGenQueue(lim)}

	// Warm-up: a prefill and a step, and the logits' width.
	logits, st, err := g.prefill([]int32{g.bos()})
	if err != nil {
		return nil, fail("warm-up prefill: %v", err)
	}
	if len(logits) != g.info.Vocab {
		st.release()
		return nil, fail("prefill gives %d logits, model.json says vocab %d", len(logits), g.info.Vocab)
	}
	_, err = st.decode(argmax(logits), 1)
	st.release()
	if err != nil {
		return nil, fail("warm-up decode: %v", err)
	}
	if g.devices, err = listDevices(saved.Session); err != nil {
		return nil, fail("%v", err)
	}
	if err := waitSum(); err != nil {
		return nil, fail("%v", err)
	}
	g.bytes = dirBytes(dir)
	g.name = generatorName(g.info, g.checksum)
	ok = true
	return g, nil
}

func (g *TFGenerator) bos() int32 {
	if g.info.BOS != 0 {
		return g.info.BOS
	}
	return g.tok.BOS()
}

// resolve finds the two signatures' tensors by the signature map (their names differ per export).
func (g *TFGenerator) resolve() error {
	type want struct {
		sig, key string
		in       bool
		dtype    tf.DataType
		out      *tf.Output
	}
	for _, w := range []want{
		{"prefill", "token_ids", true, tf.Int32, &g.prefillIDs},
		{"prefill", "logits", false, tf.Float, &g.prefillLogits},
		{"prefill", "cache", false, tf.Float, &g.prefillCache},
		{"decode", "token_id", true, tf.Int32, &g.decodeID},
		{"decode", "cache", true, tf.Float, &g.decodeCache},
		{"decode", "position", true, tf.Int32, &g.decodePos},
		{"decode", "logits", false, tf.Float, &g.decodeLogits},
		{"decode", "cache", false, tf.Float, &g.decodeCacheOut},
	} {
		s, found := g.saved.Signatures[w.sig]
		if !found {
			return fmt.Errorf("no signature %q", w.sig)
		}
		tensors, what := s.Outputs, "output"
		if w.in {
			tensors, what = s.Inputs, "input"
		}
		info, found := tensors[w.key]
		if !found {
			return fmt.Errorf("signature %q has no %s %q (%ss: %s)", w.sig, what, w.key, what, orNone(keys(tensors)))
		}
		if info.DType != w.dtype {
			return fmt.Errorf("signature %q %s %q is %s, want %s", w.sig, what, w.key, dtypeName(info.DType), dtypeName(w.dtype))
		}
		o, err := graphOutput(g.saved.Graph, info.Name)
		if err != nil {
			return fmt.Errorf("signature %q %s %q: %v", w.sig, what, w.key, err)
		}
		*w.out = o
	}
	return nil
}

// verifyChecksum recomputes model.json's saved_model_sha256: sha256 over saved_model.pb and
// variables/* (path, a NUL, then the content; paths in order), as gemma_convert.py writes it.
func (g *TFGenerator) verifyChecksum() error {
	if g.info.Checksum == "" {
		return fmt.Errorf("model.json has no saved_model_sha256")
	}
	vars, err := os.ReadDir(filepath.Join(g.dir, "variables"))
	if err != nil {
		return err
	}
	paths := []string{"saved_model.pb"}
	for _, e := range vars {
		paths = append(paths, "variables/"+e.Name())
	}
	slices.Sort(paths[1:])
	h := sha256.New()
	for _, p := range paths {
		h.Write([]byte(p))
		h.Write([]byte{0})
		f, err := os.Open(filepath.Join(g.dir, p))
		if err != nil {
			return err
		}
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return err
		}
	}
	got := hex.EncodeToString(h.Sum(nil))
	if got != g.info.Checksum {
		return fmt.Errorf("checksum mismatch: the SavedModel's files hash to %s, model.json says %s (truncated or damaged: convert it again)", got[:12], g.info.Checksum[:min(12, len(g.info.Checksum))])
	}
	g.checksum = got
	return nil
}

// generatorName is "gemma3-270m-tf@9170c1f5a595": the model (its package's name without the
// quantisation), the backend, and the SavedModel's checksum, short.
func generatorName(info generatorJSON, checksum string) string {
	base := info.Architecture
	if m := quantSuffix.FindStringSubmatch(info.Source.Package); m != nil {
		base = m[1]
	} else if info.Source.Package != "" {
		base = info.Source.Package
	}
	if base == "" {
		base = info.Name
	}
	return base + "-tf@" + checksum[:min(12, len(checksum))]
}

var quantSuffix = regexp.MustCompile(`^(.+?)-(?:q\d|f16|f32|bf16).*$`)

// Generate continues prompt (the beginning-of-sequence token goes in front, as the model was
// trained), calling emit with each new piece of text as soon as it is whole UTF-8, until the end
// of text (EOS or <end_of_turn>), a stop string (never emitted), opt.MaxTokens or the end of the
// context. It waits its turn in the queue (ErrModelBusy when the queue is full; a prompt that
// leaves no room for a token is ErrPromptTooLong). When ctx ends it returns ctx's error at once
// (StopReason "canceled"); the step in flight finishes in the background. An error of emit
// stops the generation and is returned.
func (g *TFGenerator) Generate(ctx context.Context, prompt string, opt GenerateOptions, emit func(piece string) error) (GenerateStats, error) {
	return g.dec.generate(ctx, g.promptIDs(prompt), opt, emit, nil)
}

// promptIDs are the prompt's token ids, BOS first.
func (g *TFGenerator) promptIDs(prompt string) []int32 {
	return append([]int32{g.bos()}, g.tok.Encode(prompt)...)
}

// CountTokens is the number of tokens text takes in a prompt (without the BOS).
func (g *TFGenerator) CountTokens(text string) int { return len(g.tok.Encode(text)) }

// Tokenize is text's token ids (without the BOS).
func (g *TFGenerator) Tokenize(text string) []int32 { return g.tok.Encode(text) }

// MaxContext is the most tokens a prompt and its continuation may hold together.
func (g *TFGenerator) MaxContext() int { return g.info.MaxContext }

// Name names the model and its version, e.g. "gemma3-270m-tf@9170c1f5a595".
func (g *TFGenerator) Name() string { return g.name }

// Dir is the SavedModel directory.
func (g *TFGenerator) Dir() string { return g.dir }

// Bytes is the size on disk of the model directory.
func (g *TFGenerator) Bytes() int64 { return g.bytes }

// Devices are the devices of the generator's session.
func (g *TFGenerator) Devices() []Device { return g.devices }

// Tokenizer is the generator's tokeniser.
func (g *TFGenerator) Tokenizer() *SentencePiece { return g.tok }

// Close releases the session; it waits for runs in flight. Later generations fail.
func (g *TFGenerator) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil
	}
	g.closed = true
	return g.saved.Session.Close()
}

// tfState is one sequence's KV cache, a tensor in TensorFlow's memory (75 MB for 2,048
// positions), replaced by each step.
type tfState struct {
	g     *TFGenerator
	cache *tf.Tensor
}

func (g *TFGenerator) prefill(ids []int32) ([]float32, lmState, error) {
	x, err := tf.NewTensor([][]int32{ids})
	if err != nil {
		return nil, nil, err
	}
	logits, cache, err := g.run(map[tf.Output]*tf.Tensor{g.prefillIDs: x}, g.prefillLogits, g.prefillCache)
	if err != nil {
		return nil, nil, err
	}
	return logits, &tfState{g: g, cache: cache}, nil
}

func (s *tfState) decode(id int32, pos int) ([]float32, error) {
	g := s.g
	if g.beforeStep != nil {
		g.beforeStep()
	}
	if s.cache == nil {
		return nil, fmt.Errorf("generator %s: decode after release", g.dir)
	}
	x, err := tf.NewTensor([][]int32{{id}})
	if err != nil {
		return nil, err
	}
	p, err := tf.NewTensor(int32(pos))
	if err != nil {
		return nil, err
	}
	logits, cache, err := g.run(map[tf.Output]*tf.Tensor{g.decodeID: x, g.decodeCache: s.cache, g.decodePos: p}, g.decodeLogits, g.decodeCacheOut)
	if err != nil {
		return nil, err
	}
	g.free(s.cache)
	s.cache = cache
	return logits, nil
}

func (s *tfState) release() {
	if s.cache != nil {
		s.g.free(s.cache)
		s.cache = nil
	}
}

// run runs the session for the logits and the cache.
func (g *TFGenerator) run(feeds map[tf.Output]*tf.Tensor, logitsOut, cacheOut tf.Output) ([]float32, *tf.Tensor, error) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.closed {
		return nil, nil, fmt.Errorf("generator %s: closed", g.dir)
	}
	res, err := g.saved.Session.Run(feeds, []tf.Output{logitsOut, cacheOut}, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("generator %s: %v", g.dir, err)
	}
	rows, ok := res[0].Value().([][]float32)
	if !ok || len(rows) != 1 {
		g.free(res[1])
		return nil, nil, fmt.Errorf("generator %s: logits of shape %v, want [1, vocab]", g.dir, res[0].Shape())
	}
	g.free(res[0])
	return rows[0], res[1], nil
}

// free releases a tensor's TensorFlow memory now. graft frees tensors in finalizers, which run
// only after a garbage collection; a KV cache is 75 MB per step and the Go heap sees none of
// it, so many would pile up before one. When graft's Tensor is not the struct this code knows
// (another graft version), the finalizer frees it as before.
func (g *TFGenerator) free(t *tf.Tensor) {
	if t == nil || !g.freeable {
		return
	}
	p := tensorCPointer(t)
	if *p == nil {
		return
	}
	runtime.SetFinalizer(t, nil)
	C.TF_DeleteTensor((*C.TF_Tensor)(*p))
	*p = nil
}

// tensorCPointer is the address of graft's Tensor.c (the *C.TF_Tensor it wraps).
func tensorCPointer(t *tf.Tensor) *unsafe.Pointer {
	f := reflect.ValueOf(t).Elem().FieldByName("c")
	return (*unsafe.Pointer)(unsafe.Pointer(f.UnsafeAddr()))
}

// canFreeTensors reports whether graft's Tensor holds its C tensor where free expects it.
func canFreeTensors() bool {
	f, ok := reflect.TypeFor[tf.Tensor]().FieldByName("c")
	return ok && f.Type.Kind() == reflect.Pointer && f.Type.Elem().Name() == "_Ctype_struct_TF_Tensor"
}
