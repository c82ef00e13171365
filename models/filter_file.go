package models

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"

	"github.com/lawbot-kr/lawbot/internal/atomicfile"
)

// The filter file is
//
//	magic "LBFILTER" | format version uint32 | header length uint32 | header JSON (FilterInfo)
//	| bias float64 | weight count uint32 | weights float32… | CRC-32C of everything before it
//
// little-endian. The header comes first and in JSON so that a person (or `head -c`) can see what
// a model is; the checksum makes a truncated or damaged file fail to load instead of scoring
// nonsense.
const (
	filterMagic = "LBFILTER"
	// FilterFormatVersion is the version of the file layout; it is also in the file name, so a
	// future layout can sit beside this one while servers move over.
	FilterFormatVersion = 1
)

// ErrCorruptModel marks a model file that exists but cannot be trusted.
var ErrCorruptModel = errors.New("corrupt model file")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// FilterPath is where the filter lives in a state directory.
func FilterPath(stateDir string) string {
	return filepath.Join(Dir(stateDir), fmt.Sprintf("filter.v%d.bin", FilterFormatVersion))
}

// Save writes the filter to path atomically: a reader sees the old model or the new, never half.
func (f *Filter) Save(path string) error {
	data, err := f.MarshalBinary()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("save filter: %w", err)
	}
	if err := atomicfile.WriteFile(path, data); err != nil {
		return fmt.Errorf("save filter %s: %w", path, err)
	}
	return nil
}

// MarshalBinary encodes the filter in the file format above.
func (f *Filter) MarshalBinary() ([]byte, error) {
	return sealModel(filterMagic, FilterFormatVersion, f.info, func(b *bytes.Buffer) error {
		b.Write(binary.LittleEndian.AppendUint64(nil, math.Float64bits(f.bias)))
		b.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(f.weights))))
		buf := make([]byte, 4)
		for _, w := range f.weights {
			binary.LittleEndian.PutUint32(buf, math.Float32bits(w))
			b.Write(buf)
		}
		return nil
	})
}

// AnalyzerLookup gives the morpheme analyzer a saved model names (FeatureConfig.Morphemes).
type AnalyzerLookup func(name string) (MorphemeAnalyzer, error)

// LoadFilter reads a filter saved by Save. analyzerFor is asked for the analyzer when the filter
// was trained with morpheme features, and may be nil otherwise. A missing file gives an error
// that matches fs.ErrNotExist; a damaged one, ErrCorruptModel.
func LoadFilter(path string, analyzerFor AnalyzerLookup) (*Filter, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load filter: %w", err)
	}
	f, err := decodeFilter(data, analyzerFor)
	if err != nil {
		return nil, fmt.Errorf("load filter %s: %w", path, err)
	}
	return f, nil
}

func decodeFilter(data []byte, analyzerFor AnalyzerLookup) (*Filter, error) {
	const remedy = "run lawbot train again"
	corrupt := modelCorruption(remedy)
	var info FilterInfo
	rest, err := openModel(data, filterMagic, FilterFormatVersion, "filter", remedy, &info)
	if err != nil {
		return nil, err
	}
	var morph MorphemeAnalyzer
	if name := info.Features.Morphemes; name != "" {
		if analyzerFor == nil {
			return nil, fmt.Errorf("the filter uses the morphemes of %q and no analyzer was given", name)
		}
		var err error
		if morph, err = analyzerFor(name); err != nil {
			return nil, fmt.Errorf("filter features: %w", err)
		}
	}
	space, err := newFeatureSpace(info.Features, morph)
	if err != nil {
		return nil, fmt.Errorf("filter features: %w", err)
	}
	if len(rest) < 12 {
		return nil, corrupt("no weights")
	}
	bias := math.Float64frombits(binary.LittleEndian.Uint64(rest))
	n := int(binary.LittleEndian.Uint32(rest[8:]))
	rest = rest[12:]
	if n != 1<<info.Features.HashBits || len(rest) != 4*n {
		return nil, corrupt("%d weights in %d bytes for %d hash bits", n, len(rest), info.Features.HashBits)
	}
	weights := make([]float32, n)
	for i := range weights {
		weights[i] = math.Float32frombits(binary.LittleEndian.Uint32(rest[4*i:]))
	}
	if math.IsNaN(bias) || math.IsNaN(info.Threshold) {
		return nil, corrupt("NaN bias or threshold")
	}
	return &Filter{space: space, weights: weights, bias: bias, info: info}, nil
}
