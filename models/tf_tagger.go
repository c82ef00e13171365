//go:build tensorflow

package models

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// TFTagger serves the trained statute tagger: SavedModel signature "tag", input "ids" int32
// [batch, len] (0-padded), output "scores" float32 [batch, labels] (sigmoid), the labels (article
// ids such as "민법 제618조") in the model directory's labels.txt, one per line.
type TFTagger struct {
	m      *tfModel
	tok    TokenEncoder
	labels []string
}

// LoadTFTagger loads the tagger SavedModel in dir (tag "serve", signature "tag") and its
// labels.txt, with session options opt, and runs it once. tok tokenises text for Tag and
// TagBatch; with a nil tok only TagIDs works.
func LoadTFTagger(dir string, tok TokenEncoder, opt TFOptions) (*TFTagger, error) {
	b, err := os.ReadFile(filepath.Join(dir, "labels.txt"))
	if err != nil {
		return nil, fmt.Errorf("tensorflow tagger: %w", err)
	}
	labels := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	m, err := loadTFModel(dir, "tag", "scores", opt)
	if err != nil {
		return nil, err
	}
	if len(labels) != m.width {
		m.close()
		return nil, fmt.Errorf("tensorflow model %s: labels.txt has %d labels, the model scores %d", dir, len(labels), m.width)
	}
	return &TFTagger{m: m, tok: tok, labels: labels}, nil
}

// Labels are the label of each score index.
func (t *TFTagger) Labels() []string { return t.labels }

// Tag scores one text: one sigmoid score per label.
func (t *TFTagger) Tag(text string) ([]float32, error) {
	s, err := t.TagBatch([]string{text})
	if err != nil {
		return nil, err
	}
	return s[0], nil
}

// TagContext scores one text; when ctx ends first it returns ctx's error at once (the run in
// flight finishes in the background and its result is dropped).
func (t *TFTagger) TagContext(ctx context.Context, text string) ([]float32, error) {
	s, err := t.TagBatchContext(ctx, []string{text})
	if err != nil {
		return nil, err
	}
	return s[0], nil
}

// TagBatch scores texts, in runs of at most 64.
func (t *TFTagger) TagBatch(texts []string) ([][]float32, error) {
	return t.tagBatch(context.Background(), texts)
}

// TagBatchContext scores texts, in runs of at most 64; when ctx ends first it returns ctx's
// error at once (the run in flight finishes in the background, no further run starts, and the
// result is dropped).
func (t *TFTagger) TagBatchContext(ctx context.Context, texts []string) ([][]float32, error) {
	ids, err := encodeAll(t.tok, t.m.dir, texts)
	if err != nil {
		return nil, err
	}
	return t.m.runAbandonable(ctx, ids)
}

// tagBatch scores texts and returns once its last run has (ManagedTagger holds the model that
// long); it starts no run after ctx ends.
func (t *TFTagger) tagBatch(ctx context.Context, texts []string) ([][]float32, error) {
	ids, err := encodeAll(t.tok, t.m.dir, texts)
	if err != nil {
		return nil, err
	}
	return t.m.run(ctx, ids)
}

// TagIDs scores token-id rows (any lengths; rows longer than the model's max_len are cut).
func (t *TFTagger) TagIDs(ids [][]int32) ([][]float32, error) {
	return t.m.run(context.Background(), ids)
}

// Close releases the session; it waits for runs in flight. Later calls fail.
func (t *TFTagger) Close() error { return t.m.close() }

// Bytes is the size on disk of the SavedModel directory.
func (t *TFTagger) Bytes() int64 { return t.m.bytes }

// Dir is the SavedModel directory.
func (t *TFTagger) Dir() string { return t.m.dir }

// MaxLen is the longest token row the model takes (model.json max_len; 0 = no limit).
func (t *TFTagger) MaxLen() int { return t.m.maxLen }

// Devices are the devices of the tagger's session.
func (t *TFTagger) Devices() []Device { return t.m.devices }
