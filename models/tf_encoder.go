//go:build tensorflow

package models

import "context"

// TFEncoder serves the trained text encoder: SavedModel signature "embed", input "ids" int32
// [batch, len] (0-padded), output "embedding" float32 [batch, dim], L2-normalised by the model.
type TFEncoder struct {
	m   *tfModel
	tok TokenEncoder
}

var (
	_ Embedder     = (*TFEncoder)(nil)
	_ encoderModel = (*TFEncoder)(nil)
	_ taggerModel  = (*TFTagger)(nil)
)

// LoadTFEncoder loads the encoder SavedModel in dir (tag "serve", signature "embed") with session
// options opt and runs it once. tok tokenises text for Embed and EmbedBatch; with a nil tok only
// EmbedIDs works.
func LoadTFEncoder(dir string, tok TokenEncoder, opt TFOptions) (*TFEncoder, error) {
	m, err := loadTFModel(dir, "embed", "embedding", opt)
	if err != nil {
		return nil, err
	}
	return &TFEncoder{m: m, tok: tok}, nil
}

// Dim is the embedding size.
func (e *TFEncoder) Dim() int { return e.m.width }

// Embed embeds one text; on a TensorFlow error (or a closed encoder) it returns the zero vector,
// which matches nothing. Use EmbedBatch to see errors.
func (e *TFEncoder) Embed(text string) []float32 {
	v, err := e.EmbedBatch([]string{text})
	if err != nil {
		return make([]float32, e.Dim())
	}
	return v[0]
}

// EmbedContext embeds one text; when ctx ends first it returns ctx's error at once (the run in
// flight finishes in the background and its result is dropped).
func (e *TFEncoder) EmbedContext(ctx context.Context, text string) ([]float32, error) {
	v, err := e.EmbedBatchContext(ctx, []string{text})
	if err != nil {
		return nil, err
	}
	return v[0], nil
}

// EmbedBatch embeds texts, in runs of at most 64.
func (e *TFEncoder) EmbedBatch(texts []string) ([][]float32, error) {
	return e.embedBatch(context.Background(), texts)
}

// EmbedBatchContext embeds texts, in runs of at most 64; when ctx ends first it returns ctx's
// error at once (the run in flight finishes in the background, no further run starts, and the
// result is dropped).
func (e *TFEncoder) EmbedBatchContext(ctx context.Context, texts []string) ([][]float32, error) {
	ids, err := encodeAll(e.tok, e.m.dir, texts)
	if err != nil {
		return nil, err
	}
	return e.m.runAbandonable(ctx, ids)
}

// embedBatch embeds texts and returns once its last run has (ManagedEncoder holds the model
// that long); it starts no run after ctx ends.
func (e *TFEncoder) embedBatch(ctx context.Context, texts []string) ([][]float32, error) {
	ids, err := encodeAll(e.tok, e.m.dir, texts)
	if err != nil {
		return nil, err
	}
	return e.m.run(ctx, ids)
}

// EmbedIDs embeds token-id rows (any lengths; rows longer than the model's max_len are cut).
func (e *TFEncoder) EmbedIDs(ids [][]int32) ([][]float32, error) {
	return e.m.run(context.Background(), ids)
}

// Close releases the session; it waits for runs in flight. Later calls fail.
func (e *TFEncoder) Close() error { return e.m.close() }

// Bytes is the size on disk of the SavedModel directory.
func (e *TFEncoder) Bytes() int64 { return e.m.bytes }

// Dir is the SavedModel directory.
func (e *TFEncoder) Dir() string { return e.m.dir }

// MaxLen is the longest token row the model takes (model.json max_len; 0 = no limit).
func (e *TFEncoder) MaxLen() int { return e.m.maxLen }

// Devices are the devices of the encoder's session.
func (e *TFEncoder) Devices() []Device { return e.m.devices }
