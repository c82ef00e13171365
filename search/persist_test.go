package search

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func saved(t *testing.T, ix *Index, source string) (string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.idx")
	if err := ix.Save(path, source); err != nil {
		t.Fatalf("Save: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, data
}

func TestSaveLoadRoundTrip(t *testing.T) {
	ix := synthIndex(500, 300, 3)
	path, _ := saved(t, ix, "snapshot-abc")
	got, err := Load(path, "snapshot-abc")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got.Len() != ix.Len() || !slices.Equal(got.Fields(), ix.Fields()) {
		t.Fatalf("loaded Len %d Fields %v, saved %d %v", got.Len(), got.Fields(), ix.Len(), ix.Fields())
	}
	for _, term := range []string{"t2", "t3", "t50", "t299", "absent"} {
		if got.DocFreq(term) != ix.DocFreq(term) || got.IDF(term) != ix.IDF(term) {
			t.Errorf("%s: loaded df %d idf %v, saved df %d idf %v", term, got.DocFreq(term), got.IDF(term), ix.DocFreq(term), ix.IDF(term))
		}
	}
	for i, q := range synthQueries(30, 300, 4) {
		for _, p := range []Params{params(1, 1, 0.75), params(2, 0.5, 0), params(0, 1, 1)} {
			want := ix.Search(q, p, 20)
			if len(want) == 0 {
				t.Fatalf("query %d found nothing in the saved index", i)
			}
			if hits := got.Search(q, p, 20); !slices.Equal(hits, want) {
				t.Errorf("query %d %v: loaded %v, saved %v", i, p, hits, want)
			}
		}
	}
	// Without a wanted source any tag is accepted.
	if _, err := Load(path, ""); err != nil {
		t.Errorf("Load without a source: %v", err)
	}
}

func TestSaveLoadSmall(t *testing.T) {
	for name, ix := range map[string]*Index{
		"empty":           NewBuilder("title", "body").Build(),
		"one document":    build([2]string{"임대차", "보증금 반환"}),
		"no fields":       NewBuilder().Build(),
		"empty-term list": build([2]string{"", ""}, [2]string{"", ""}),
	} {
		t.Run(name, func(t *testing.T) {
			path, _ := saved(t, ix, "s")
			got, err := Load(path, "s")
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got.Len() != ix.Len() || len(got.Fields()) != len(ix.Fields()) {
				t.Errorf("loaded Len %d Fields %v, saved %d %v", got.Len(), got.Fields(), ix.Len(), ix.Fields())
			}
			q := query("임대차 보증금")
			if a, b := got.Search(q, params(1, 1, 0.75), 0), ix.Search(q, params(1, 1, 0.75), 0); !slices.Equal(a, b) {
				t.Errorf("loaded %v, saved %v", a, b)
			}
		})
	}
}

func TestLoadDamaged(t *testing.T) {
	ix := synthIndex(50, 100, 5)
	_, good := saved(t, ix, "snap")
	damage := map[string]func([]byte) []byte{
		"truncated payload": func(b []byte) []byte { return b[:len(b)-7] },
		"truncated header":  func(b []byte) []byte { return b[:indexHeader-1] },
		"flipped payload byte": func(b []byte) []byte {
			b[len(b)/2] ^= 0x40
			return b
		},
		"flipped checksum byte": func(b []byte) []byte {
			b[25] ^= 0x01
			return b
		},
		"wrong magic": func(b []byte) []byte {
			copy(b, "NOTANIDX")
			return b
		},
		"longer than the header says": func(b []byte) []byte { return append(b, 0) },
		"empty file":                  func([]byte) []byte { return nil },
	}
	for name, f := range damage {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.idx")
			if err := os.WriteFile(path, f(slices.Clone(good)), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := Load(path, "snap")
			if err == nil || got != nil {
				t.Fatalf("Load of a damaged file = %v, %v; want an error", got, err)
			}
			if !strings.Contains(err.Error(), "corrupt") || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not say the file %s is corrupt", err, path)
			}
			if errors.Is(err, ErrStale) {
				t.Errorf("damage reported as stale: %v", err)
			}
		})
	}
}

func TestLoadStale(t *testing.T) {
	ix := build([2]string{"임대차", "보증금"})
	path, data := saved(t, ix, "snapshot-old")
	_, err := Load(path, "snapshot-new")
	if !errors.Is(err, ErrStale) {
		t.Fatalf("Load with another source: %v, want ErrStale", err)
	}
	if !strings.Contains(err.Error(), "lawbot ingest") {
		t.Errorf("stale error %q does not say how to fix it", err)
	}

	// A file of another format version is stale too, not corrupt.
	data[8]++
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, "snapshot-old"); !errors.Is(err, ErrStale) {
		t.Errorf("Load of another format version: %v, want ErrStale", err)
	}

	if _, err := Load(filepath.Join(t.TempDir(), "missing.idx"), "x"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file: %v, want os.ErrNotExist", err)
	}
}

// FuzzLoad feeds Load payloads with a valid header and checksum, so that the fuzzer reaches the
// payload reader: a well-formed but inconsistent payload must be an error, not a panic.
func FuzzLoad(f *testing.F) {
	for _, ix := range []*Index{build([2]string{"임대차", "보증금 반환"}, [2]string{"매매", "보증금"}), NewBuilder("a").Build()} {
		path := filepath.Join(f.TempDir(), "seed.idx")
		if err := ix.Save(path, "s"); err != nil {
			f.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data[indexHeader:])
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, payload []byte) {
		head := make([]byte, indexHeader)
		copy(head, indexMagic)
		binary.LittleEndian.PutUint32(head[8:], indexVersion)
		binary.LittleEndian.PutUint64(head[12:], uint64(len(payload)))
		sum := sha256.Sum256(payload)
		copy(head[20:], sum[:])
		path := filepath.Join(dir, "fuzz.idx")
		if err := os.WriteFile(path, append(head, payload...), 0o644); err != nil {
			t.Fatal(err)
		}
		ix, err := Load(path, "")
		if err != nil {
			return
		}
		fields := make([]FieldWeight, len(ix.Fields()))
		for i := range fields {
			fields[i] = FieldWeight{Weight: 1, B: 0.75}
		}
		ix.Search(query("임대차 보증금 매매 반환"), Params{K1: 1.2, Fields: fields}, 10)
	})
}
