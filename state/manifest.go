package state

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/lawbot-kr/lawbot/internal/atomicfile"
)

// Names inside a state directory.
const (
	SnapshotFile = "corpus.snapshot"
	ManifestFile = "manifest.json"
	// DefaultDir is where lawbot keeps its state unless told otherwise.
	DefaultDir = "var"
)

// Manifest records what an ingest read and wrote. It is written after the snapshot, so a
// manifest that matches the snapshot's checksum means the ingest finished.
type Manifest struct {
	FormatVersion int          `json:"format_version"`
	IngestedAt    time.Time    `json:"ingested_at"`
	DataDir       string       `json:"data_dir"`
	Snapshot      SnapshotInfo `json:"snapshot"`
	Inputs        []InputFile  `json:"inputs"`
	// StatuteKinds are the law files taken from a legalize-kr tarball (IngestOptions), when the
	// statutes came from one.
	StatuteKinds []string `json:"statute_kinds,omitempty"`
}

// InputFile is the fingerprint of one corpus file and what was read from it.
type InputFile struct {
	Name       string    `json:"name"` // base name inside the data directory
	Size       int64     `json:"size"`
	ModTime    time.Time `json:"mtime"`
	SHA256     string    `json:"sha256"`
	Records    int       `json:"records"`    // records kept
	BadLines   int       `json:"bad_lines"`  // malformed lines skipped
	Duplicates int       `json:"duplicates"` // records skipped because their id came earlier
}

// ReadManifest reads dir's manifest; the error wraps os.ErrNotExist when there is none.
func ReadManifest(dir string) (*Manifest, error) {
	path := filepath.Join(dir, ManifestFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", path, err)
	}
	return &m, nil
}

func writeManifest(dir string, m *Manifest) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, ManifestFile), append(data, '\n')); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return nil
}

// fileSHA256 hashes a whole file, for the fingerprint check when only the mtime moved.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// changedInput compares the corpus files against the manifest's fingerprints and names the first
// difference, or returns "" when nothing changed. Size and mtime decide without reading the
// file; only a file whose size is the same but whose mtime moved (a touch, a fresh checkout) is
// hashed.
func changedInput(m *Manifest, paths []string) (string, error) {
	if len(paths) != len(m.Inputs) {
		return fmt.Sprintf("the corpus has %d files, the last ingest read %d", len(paths), len(m.Inputs)), nil
	}
	for i, path := range paths {
		prev := m.Inputs[i]
		if filepath.Base(path) != prev.Name {
			return fmt.Sprintf("%s is new", filepath.Base(path)), nil
		}
		fi, err := os.Stat(path)
		if err != nil {
			return "", err
		}
		if fi.Size() != prev.Size {
			return fmt.Sprintf("%s changed size", prev.Name), nil
		}
		if fi.ModTime().Equal(prev.ModTime) {
			continue
		}
		sum, err := fileSHA256(path)
		if err != nil {
			return "", err
		}
		if sum != prev.SHA256 {
			return fmt.Sprintf("%s changed", prev.Name), nil
		}
	}
	return "", nil
}
