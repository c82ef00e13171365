//go:build !tensorflow

package models

import "context"

// Without the `tensorflow` build tag: the TensorFlow-backed models exist as types (so callers
// compile) but cannot be loaded; every call reports ErrTensorFlowUnavailable.

// TensorFlowVersion is the linked TensorFlow's version; "" when built without it.
func TensorFlowVersion() string { return "" }

// Devices reports the CPU alone, with ErrTensorFlowUnavailable.
func Devices(opt TFOptions) ([]Device, error) {
	return []Device{{Name: "/device:CPU:0", Type: "CPU"}}, ErrTensorFlowUnavailable
}

// TFEncoder is the TensorFlow text encoder (unavailable in this build).
type TFEncoder struct{}

// LoadTFEncoder returns ErrTensorFlowUnavailable in a build without the `tensorflow` tag.
func LoadTFEncoder(dir string, tok TokenEncoder, opt TFOptions) (*TFEncoder, error) {
	return nil, ErrTensorFlowUnavailable
}

func (e *TFEncoder) Dim() int                    { return 0 }
func (e *TFEncoder) Embed(text string) []float32 { return nil }
func (e *TFEncoder) EmbedBatch(texts []string) ([][]float32, error) {
	return nil, ErrTensorFlowUnavailable
}
func (e *TFEncoder) EmbedContext(ctx context.Context, text string) ([]float32, error) {
	return nil, ErrTensorFlowUnavailable
}
func (e *TFEncoder) EmbedBatchContext(ctx context.Context, texts []string) ([][]float32, error) {
	return nil, ErrTensorFlowUnavailable
}
func (e *TFEncoder) embedBatch(ctx context.Context, texts []string) ([][]float32, error) {
	return nil, ErrTensorFlowUnavailable
}
func (e *TFEncoder) EmbedIDs(ids [][]int32) ([][]float32, error) {
	return nil, ErrTensorFlowUnavailable
}
func (e *TFEncoder) Close() error      { return nil }
func (e *TFEncoder) Bytes() int64      { return 0 }
func (e *TFEncoder) Dir() string       { return "" }
func (e *TFEncoder) MaxLen() int       { return 0 }
func (e *TFEncoder) Devices() []Device { return nil }

// TFTagger is the TensorFlow statute tagger (unavailable in this build).
type TFTagger struct{}

// LoadTFTagger returns ErrTensorFlowUnavailable in a build without the `tensorflow` tag.
func LoadTFTagger(dir string, tok TokenEncoder, opt TFOptions) (*TFTagger, error) {
	return nil, ErrTensorFlowUnavailable
}

func (t *TFTagger) Labels() []string                   { return nil }
func (t *TFTagger) Tag(text string) ([]float32, error) { return nil, ErrTensorFlowUnavailable }
func (t *TFTagger) TagBatch(texts []string) ([][]float32, error) {
	return nil, ErrTensorFlowUnavailable
}
func (t *TFTagger) TagContext(ctx context.Context, text string) ([]float32, error) {
	return nil, ErrTensorFlowUnavailable
}
func (t *TFTagger) TagBatchContext(ctx context.Context, texts []string) ([][]float32, error) {
	return nil, ErrTensorFlowUnavailable
}
func (t *TFTagger) tagBatch(ctx context.Context, texts []string) ([][]float32, error) {
	return nil, ErrTensorFlowUnavailable
}
func (t *TFTagger) TagIDs(ids [][]int32) ([][]float32, error) {
	return nil, ErrTensorFlowUnavailable
}
func (t *TFTagger) Close() error      { return nil }
func (t *TFTagger) Bytes() int64      { return 0 }
func (t *TFTagger) Dir() string       { return "" }
func (t *TFTagger) MaxLen() int       { return 0 }
func (t *TFTagger) Devices() []Device { return nil }

var (
	_ Embedder     = (*TFEncoder)(nil)
	_ encoderModel = (*TFEncoder)(nil)
	_ taggerModel  = (*TFTagger)(nil)
)

// TFGenerator is the TensorFlow generator (unavailable in this build).
type TFGenerator struct{}

// LoadTFGenerator returns ErrTensorFlowUnavailable in a build without the `tensorflow` tag.
func LoadTFGenerator(dir string, opt TFOptions) (*TFGenerator, error) {
	return nil, ErrTensorFlowUnavailable
}

// LoadTFGeneratorWith returns ErrTensorFlowUnavailable in a build without the `tensorflow` tag.
func LoadTFGeneratorWith(dir string, opt TFOptions, lim GeneratorLimits) (*TFGenerator, error) {
	return nil, ErrTensorFlowUnavailable
}

func (g *TFGenerator) Generate(ctx context.Context, prompt string, opt GenerateOptions, emit func(piece string) error) (GenerateStats, error) {
	return GenerateStats{}, ErrTensorFlowUnavailable
}
func (g *TFGenerator) CountTokens(text string) int { return 0 }
func (g *TFGenerator) MaxContext() int             { return 0 }
func (g *TFGenerator) Name() string                { return "" }
func (g *TFGenerator) Dir() string                 { return "" }
func (g *TFGenerator) Bytes() int64                { return 0 }
func (g *TFGenerator) Devices() []Device           { return nil }
func (g *TFGenerator) Tokenizer() *SentencePiece   { return nil }
func (g *TFGenerator) Close() error                { return nil }

var _ generatorModel = (*TFGenerator)(nil)
