package models

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"

	"github.com/lawbot-kr/lawbot/internal/atomicfile"
)

// The LSA file is
//
//	magic "LBLSAEMB" | format version uint32 | header length uint32 | header JSON (LSAInfo)
//	| per term: length uint16, UTF-8 bytes, idf float32 | projection float32… (terms × dim)
//	| CRC-32C of everything before it
//
// little-endian, terms in column order. Like the filter file, a damaged or truncated file fails
// to load with ErrCorruptModel instead of embedding nonsense.
const (
	lsaMagic = "LBLSAEMB"
	// LSAFormatVersion is the version of the file layout, also in the file name.
	LSAFormatVersion = 1
)

// LSAInfo is the readable header of an LSA file: what the embedding is and what it was fitted on.
type LSAInfo struct {
	Dim      int    `json:"dim"`
	Terms    int    `json:"terms"`
	Analyzer string `json:"analyzer"` // the morpheme analyzer's version
	Source   string `json:"source"`   // what it was fitted on (the state's snapshot checksum)
	Docs     int    `json:"docs"`
}

// LSAPath is where the LSA embedding lives in a state directory.
func LSAPath(stateDir string) string {
	return filepath.Join(Dir(stateDir), fmt.Sprintf("lsa.v%d.bin", LSAFormatVersion))
}

// Info describes the embedding (set by the caller of FitLSA before Save, read back by LoadLSA).
func (e *LSA) Info() LSAInfo { return e.info }

// SetSource records what the embedding was fitted on and with which analyzer.
func (e *LSA) SetSource(analyzer, source string) {
	e.info.Analyzer, e.info.Source = analyzer, source
}

// Save writes the embedding to path atomically.
func (e *LSA) Save(path string) error {
	data, err := e.MarshalBinary()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("save LSA: %w", err)
	}
	if err := atomicfile.WriteFile(path, data); err != nil {
		return fmt.Errorf("save LSA %s: %w", path, err)
	}
	return nil
}

// MarshalBinary encodes the embedding in the file format above.
func (e *LSA) MarshalBinary() ([]byte, error) {
	info := e.info
	info.Dim, info.Terms = e.dim, len(e.vocab)
	terms := make([]string, len(e.vocab))
	for t, c := range e.vocab {
		terms[c] = t
	}
	return sealModel(lsaMagic, LSAFormatVersion, info, func(b *bytes.Buffer) error {
		buf := make([]byte, 0, 8)
		for c, t := range terms {
			if len(t) > math.MaxUint16 {
				return fmt.Errorf("encode LSA: term of %d bytes", len(t))
			}
			b.Write(binary.LittleEndian.AppendUint16(buf[:0], uint16(len(t))))
			b.WriteString(t)
			b.Write(binary.LittleEndian.AppendUint32(buf[:0], math.Float32bits(e.idf[c])))
		}
		for _, x := range e.proj {
			b.Write(binary.LittleEndian.AppendUint32(buf[:0], math.Float32bits(x)))
		}
		return nil
	})
}

// LoadLSA reads an embedding saved by Save; analyzer splits the texts it embeds and must be the
// one it was fitted with (the caller compares Info().Analyzer). A missing file gives an error
// that matches fs.ErrNotExist; a damaged one, ErrCorruptModel.
func LoadLSA(path string, analyzer MorphemeAnalyzer) (*LSA, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load LSA: %w", err)
	}
	e, err := decodeLSA(data, analyzer)
	if err != nil {
		return nil, fmt.Errorf("load LSA %s: %w", path, err)
	}
	return e, nil
}

func decodeLSA(data []byte, analyzer MorphemeAnalyzer) (*LSA, error) {
	const remedy = "run lawbot ingest --force again"
	corrupt := modelCorruption(remedy)
	var info LSAInfo
	rest, err := openModel(data, lsaMagic, LSAFormatVersion, "LSA", remedy, &info)
	if err != nil {
		return nil, err
	}
	if info.Dim <= 0 || info.Terms <= 0 || info.Dim > 1<<16 || info.Terms > len(rest)/6 {
		return nil, corrupt("%d terms × %d dimensions in %d bytes", info.Terms, info.Dim, len(rest))
	}
	e := &LSA{analyzer: analyzer, vocab: make(map[string]int32, info.Terms), idf: make([]float32, info.Terms), dim: info.Dim, info: info}
	for c := range info.Terms {
		if len(rest) < 2 {
			return nil, corrupt("term %d cut off", c)
		}
		n := int(binary.LittleEndian.Uint16(rest))
		if len(rest) < 2+n+4 {
			return nil, corrupt("term %d cut off", c)
		}
		t := string(rest[2 : 2+n])
		if _, dup := e.vocab[t]; dup {
			return nil, corrupt("term %q twice", t)
		}
		e.vocab[t] = int32(c)
		e.idf[c] = math.Float32frombits(binary.LittleEndian.Uint32(rest[2+n:]))
		rest = rest[2+n+4:]
	}
	if len(rest) != 4*info.Terms*info.Dim {
		return nil, corrupt("projection of %d bytes for %d terms × %d dimensions", len(rest), info.Terms, info.Dim)
	}
	e.proj = make([]float32, info.Terms*info.Dim)
	for i := range e.proj {
		e.proj[i] = math.Float32frombits(binary.LittleEndian.Uint32(rest[4*i:]))
	}
	return e, nil
}

// Terms lists the vocabulary in column order (for tests and inspection).
func (e *LSA) Terms() []string {
	terms := make([]string, 0, len(e.vocab))
	for t := range e.vocab {
		terms = append(terms, t)
	}
	sort.Slice(terms, func(i, j int) bool { return e.vocab[terms[i]] < e.vocab[terms[j]] })
	return terms
}
