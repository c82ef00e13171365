//go:build tensorflow

package models

// What the TensorFlow-backed models share: loading a SavedModel (tag "serve"), finding a
// signature's tensors by the signature map, session options, batched runs, devices, version.
// Linked through github.com/wamuir/graft against the tensorflow-cpu wheel's C library; the cgo
// flags live in scripts/tf-env (make build sets them).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	tf "github.com/wamuir/graft/tensorflow"
	corepb "github.com/wamuir/graft/tensorflow/core/protobuf/for_core_protos_go_proto"
	"google.golang.org/protobuf/proto"
)

func init() {
	// TensorFlow logs every SavedModel load at INFO on stderr; keep warnings and errors unless the
	// operator chose a level. (Read lazily by TensorFlow, so setting it here, before any load, works.)
	if _, ok := os.LookupEnv("TF_CPP_MIN_LOG_LEVEL"); !ok {
		os.Setenv("TF_CPP_MIN_LOG_LEVEL", "1")
	}
}

// TensorFlowVersion is the linked TensorFlow C library's version, e.g. "2.18.1".
func TensorFlowVersion() string { return tf.Version() }

// sessionOptions serialises opt into a ConfigProto; nil when opt leaves every default.
func sessionOptions(opt TFOptions) (*tf.SessionOptions, error) {
	if opt.IntraOpThreads < 0 || opt.InterOpThreads < 0 {
		return nil, fmt.Errorf("tensorflow options: negative thread count (intra %d, inter %d)", opt.IntraOpThreads, opt.InterOpThreads)
	}
	if opt == (TFOptions{}) {
		return nil, nil
	}
	cfg := &corepb.ConfigProto{
		IntraOpParallelismThreads: int32(opt.IntraOpThreads),
		InterOpParallelismThreads: int32(opt.InterOpThreads),
	}
	if opt.AllowGrowth || opt.VisibleDevices != "" {
		cfg.GpuOptions = &corepb.GPUOptions{AllowGrowth: opt.AllowGrowth, VisibleDeviceList: opt.VisibleDevices}
	}
	b, err := proto.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("tensorflow options: %w", err)
	}
	return &tf.SessionOptions{Config: b}, nil
}

// Devices lists the devices a session with these options can use (TensorFlow's own list: the CPU,
// and each GPU when the linked TensorFlow has CUDA and sees one).
func Devices(opt TFOptions) ([]Device, error) {
	so, err := sessionOptions(opt)
	if err != nil {
		return nil, err
	}
	s, err := tf.NewSession(tf.NewGraph(), so)
	if err != nil {
		return nil, fmt.Errorf("tensorflow session: %w", err)
	}
	defer s.Close()
	return listDevices(s)
}

func listDevices(s *tf.Session) ([]Device, error) {
	ds, err := s.ListDevices()
	if err != nil {
		return nil, fmt.Errorf("tensorflow devices: %w", err)
	}
	out := make([]Device, len(ds))
	for i, d := range ds {
		out[i] = Device{Name: d.Name, Type: d.Type, MemoryBytes: d.MemoryLimitBytes}
	}
	return out, nil
}

// modelJSON is the part of a model directory's model.json (written by training/train.py) serving uses.
type modelJSON struct {
	Name   string `json:"name"`
	Dim    int    `json:"dim"`
	Labels int    `json:"labels"`
	MaxLen int    `json:"max_len"`
}

// tfModel is one loaded SavedModel signature with input "ids" (int32 [batch, len], 0-padded) and
// one float32 [batch, width] output. Safe for concurrent use: TensorFlow sessions are thread-safe
// for Run; Close waits for runs in flight.
type tfModel struct {
	dir     string
	sig     string
	saved   *tf.SavedModel
	in, out tf.Output
	width   int
	maxLen  int // rows longer are cut (model.json max_len; 0 = no limit)
	bytes   int64
	info    modelJSON
	mu      sync.RWMutex
	closed  bool
	runs    atomic.Int64 // Session.Run calls, for tests
	// beforeRun, when set (by tests), runs before each session run, as part of it.
	beforeRun func()
	devices   []Device
}

func dtypeName(d tf.DataType) string {
	switch d {
	case tf.Float:
		return "float32"
	case tf.Double:
		return "float64"
	case tf.Int32:
		return "int32"
	case tf.Int64:
		return "int64"
	case tf.String:
		return "string"
	case tf.Bool:
		return "bool"
	case tf.Half:
		return "float16"
	case 0:
		return "invalid"
	}
	return "dtype " + strconv.Itoa(int(d))
}

// loadTFModel loads the SavedModel in dir and resolves signature sig with input "ids" and output
// outKey; it checks dtypes and ranks, then runs once (warm-up: TensorFlow optimises the graph
// on the first run) to learn the output width.
func loadTFModel(dir, sig, outKey string, opt TFOptions) (*tfModel, error) {
	fail := func(format string, a ...any) error {
		return fmt.Errorf("tensorflow model %s: %s", dir, fmt.Sprintf(format, a...))
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("tensorflow model: %w", err)
	}
	if !st.IsDir() {
		return nil, fail("not a directory")
	}
	if _, err := os.Stat(filepath.Join(dir, "saved_model.pb")); err != nil {
		return nil, fail("not a SavedModel (no saved_model.pb)")
	}
	m := &tfModel{dir: dir, sig: sig}
	if b, err := os.ReadFile(filepath.Join(dir, "model.json")); err == nil {
		if err := json.Unmarshal(b, &m.info); err != nil {
			return nil, fail("model.json: %v", err)
		}
		m.maxLen = m.info.MaxLen
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fail("%v", err)
	}
	so, err := sessionOptions(opt)
	if err != nil {
		return nil, err
	}
	saved, err := tf.LoadSavedModel(dir, []string{"serve"}, so)
	if err != nil {
		return nil, fail("load (tag serve): %v", err)
	}
	m.saved = saved
	ok := false
	defer func() {
		if !ok {
			saved.Session.Close()
		}
	}()

	s, found := saved.Signatures[sig]
	if !found {
		var have []string
		for k := range saved.Signatures {
			if !strings.HasPrefix(k, "__") { // __saved_model_init_op is no serving signature
				have = append(have, strconv.Quote(k))
			}
		}
		slices.Sort(have)
		return nil, fail("no signature %q (it has %s)", sig, orNone(strings.Join(have, ", ")))
	}
	inInfo, found := s.Inputs["ids"]
	if !found {
		return nil, fail("signature %q has no input \"ids\" (inputs: %s)", sig, orNone(keys(s.Inputs)))
	}
	if inInfo.DType != tf.Int32 {
		return nil, fail("signature %q input \"ids\" is %s, want int32", sig, dtypeName(inInfo.DType))
	}
	if n := inInfo.Shape.NumDimensions(); n > 0 && n != 2 {
		return nil, fail("signature %q input \"ids\" has shape %v, want [batch, length]", sig, inInfo.Shape)
	}
	outInfo, found := s.Outputs[outKey]
	if !found {
		return nil, fail("signature %q has no output %q (outputs: %s)", sig, outKey, orNone(keys(s.Outputs)))
	}
	if outInfo.DType != tf.Float {
		return nil, fail("signature %q output %q is %s, want float32", sig, outKey, dtypeName(outInfo.DType))
	}
	if n := outInfo.Shape.NumDimensions(); n > 0 && n != 2 {
		return nil, fail("signature %q output %q has shape %v, want [batch, width]", sig, outKey, outInfo.Shape)
	}
	if m.in, err = graphOutput(saved.Graph, inInfo.Name); err != nil {
		return nil, fail("signature %q input \"ids\": %v", sig, err)
	}
	if m.out, err = graphOutput(saved.Graph, outInfo.Name); err != nil {
		return nil, fail("signature %q output %q: %v", sig, outKey, err)
	}

	// Warm-up, and the output width.
	warm, err := m.run(context.Background(), [][]int32{{1}})
	if err != nil {
		return nil, fail("warm-up run: %v", err)
	}
	m.width = len(warm[0])
	if m.width == 0 {
		return nil, fail("signature %q output %q is empty", sig, outKey)
	}
	if w := outInfo.Shape.NumDimensions(); w == 2 && outInfo.Shape.Size(1) > 0 && int(outInfo.Shape.Size(1)) != m.width {
		return nil, fail("signature %q output %q: width %d, signature says %d", sig, outKey, m.width, outInfo.Shape.Size(1))
	}
	if m.devices, err = listDevices(saved.Session); err != nil {
		return nil, fail("%v", err)
	}
	m.bytes = dirBytes(dir)
	ok = true
	return m, nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func keys(m map[string]tf.TensorInfo) string {
	var ks []string
	for k := range m {
		ks = append(ks, strconv.Quote(k))
	}
	slices.Sort(ks)
	return strings.Join(ks, ", ")
}

// graphOutput resolves a signature's tensor name "op:index" (never hard-coded: it differs per
// signature and export) to the graph's output.
func graphOutput(g *tf.Graph, name string) (tf.Output, error) {
	op, idx := name, 0
	if i := strings.LastIndexByte(name, ':'); i >= 0 {
		n, err := strconv.Atoi(name[i+1:])
		if err != nil {
			return tf.Output{}, fmt.Errorf("tensor name %q: %v", name, err)
		}
		op, idx = name[:i], n
	}
	o := g.Operation(op)
	if o == nil {
		return tf.Output{}, fmt.Errorf("op %q not in the graph", op)
	}
	if idx < 0 || idx >= o.NumOutputs() {
		return tf.Output{}, fmt.Errorf("op %q has no output %d", op, idx)
	}
	return o.Output(idx), nil
}

// dirBytes is the size on disk of the files under dir.
func dirBytes(dir string) int64 {
	var n int64
	if root, err := filepath.EvalSymlinks(dir); err == nil {
		dir = root // a model linked into the state counts the files it links to
	}
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// run feeds ids (any number of rows) in runs of at most maxTFBatch rows, each padded with 0 to
// its longest row, and returns one output row per input row. It returns once its last session
// run has: when ctx ends it starts no further run and returns ctx's error, but never leaves a
// run in flight (Close waits for it). runAbandonable is the one that returns at once.
func (m *tfModel) run(ctx context.Context, ids [][]int32) ([][]float32, error) {
	if len(ids) == 0 {
		return [][]float32{}, nil
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, fmt.Errorf("tensorflow model %s: closed", m.dir)
	}
	out := make([][]float32, 0, len(ids))
	for start := 0; start < len(ids); start += maxTFBatch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rows, err := m.runChunk(ids[start:min(start+maxTFBatch, len(ids))])
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	return out, nil
}

// runAbandonable is run that returns ctx's error as soon as ctx ends: the session run in
// flight then finishes in the background, holding the session (Close waits for it), and its
// result is dropped.
func (m *tfModel) runAbandonable(ctx context.Context, ids [][]int32) ([][]float32, error) {
	return abandon(ctx, func() ([][]float32, error) { return m.run(ctx, ids) }, nil)
}

func (m *tfModel) runChunk(ids [][]int32) ([][]float32, error) {
	width := 1
	for _, r := range ids {
		width = max(width, m.rowLen(r))
	}
	flat := make([]int32, len(ids)*width)
	batch := make([][]int32, len(ids))
	for i, r := range ids {
		row := flat[i*width : (i+1)*width : (i+1)*width]
		if len(r) == 0 {
			row[0] = 1 // an empty text is the unknown token, as the tokeniser gives it
		} else {
			copy(row, r[:m.rowLen(r)])
		}
		batch[i] = row
	}
	x, err := tf.NewTensor(batch)
	if err != nil {
		return nil, fmt.Errorf("tensorflow model %s: input tensor: %v", m.dir, err)
	}
	m.runs.Add(1)
	if m.beforeRun != nil {
		m.beforeRun()
	}
	res, err := m.saved.Session.Run(map[tf.Output]*tf.Tensor{m.in: x}, []tf.Output{m.out}, nil)
	if err != nil {
		return nil, fmt.Errorf("tensorflow model %s: run %q: %v", m.dir, m.sig, err)
	}
	got, ok := res[0].Value().([][]float32)
	if !ok {
		return nil, fmt.Errorf("tensorflow model %s: output of %q has shape %v, want [batch, width]", m.dir, m.sig, res[0].Shape())
	}
	if len(got) != len(ids) {
		return nil, fmt.Errorf("tensorflow model %s: %d output rows for %d inputs", m.dir, len(got), len(ids))
	}
	if m.width > 0 && len(got) > 0 && len(got[0]) != m.width {
		return nil, fmt.Errorf("tensorflow model %s: output width %d, want %d", m.dir, len(got[0]), m.width)
	}
	return got, nil
}

func (m *tfModel) rowLen(r []int32) int {
	if m.maxLen > 0 && len(r) > m.maxLen {
		return m.maxLen
	}
	return len(r)
}

func (m *tfModel) close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	return m.saved.Session.Close()
}

// encodeAll tokenises texts with tok.
func encodeAll(tok TokenEncoder, dir string, texts []string) ([][]int32, error) {
	if tok == nil {
		return nil, fmt.Errorf("tensorflow model %s: loaded without a tokeniser; use the *IDs methods", dir)
	}
	ids := make([][]int32, len(texts))
	for i, t := range texts {
		ids[i] = tok.Encode(t)
	}
	return ids, nil
}
