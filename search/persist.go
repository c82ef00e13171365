package search

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/lawbot-kr/lawbot/internal/atomicfile"
)

// An index file: magic, format version, payload length, SHA-256 of the payload, payload. The
// payload starts with the source tag (what the index was built from, e.g. the snapshot's
// checksum), so a stale index is told apart from a current one without reading it all.
const (
	indexMagic   = "LAWBOTIX"
	indexVersion = 1
	indexHeader  = 8 + 4 + 8 + 32
)

// ErrStale is matched by the error Load returns when an index was built from another corpus.
var ErrStale = errors.New("index is out of date")

// Save writes the index atomically to path, tagged with source.
func (ix *Index) Save(path, source string) error {
	var buf bytes.Buffer
	w := &binWriter{w: &buf}
	w.str(source)
	w.strs(ix.fields)
	terms := make([]string, len(ix.terms))
	for t, id := range ix.terms {
		terms[id] = t
	}
	w.strs(terms)
	w.int32s(ix.df)
	w.u64(uint64(ix.n))
	for f := range ix.fields {
		w.uint32s(ix.off[f])
		w.int32s(ix.docs[f])
		w.uint16s(ix.tf[f])
		w.uint32s(ix.length[f])
	}
	if w.err != nil {
		return w.err
	}
	payload := buf.Bytes()
	head := make([]byte, indexHeader)
	copy(head, indexMagic)
	binary.LittleEndian.PutUint32(head[8:], indexVersion)
	binary.LittleEndian.PutUint64(head[12:], uint64(len(payload)))
	sum := sha256.Sum256(payload)
	copy(head[20:], sum[:])
	f, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(head); err != nil {
		f.Abort()
		return err
	}
	if _, err := f.Write(payload); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// Load reads an index written by Save. When wantSource is not empty and the index was built
// from another source, the error matches ErrStale. A damaged file is an error, never a partial index.
func Load(path, wantSource string) (*Index, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(data) < indexHeader || string(data[:8]) != indexMagic {
		return nil, fmt.Errorf("index %s is corrupt: bad header; rerun lawbot ingest", path)
	}
	if v := binary.LittleEndian.Uint32(data[8:]); v != indexVersion {
		return nil, fmt.Errorf("index %s has format %d, this build reads %d: %w; rerun lawbot ingest", path, v, indexVersion, ErrStale)
	}
	n := binary.LittleEndian.Uint64(data[12:])
	payload := data[indexHeader:]
	if uint64(len(payload)) != n {
		return nil, fmt.Errorf("index %s is corrupt: %d payload bytes, header says %d (truncated?); rerun lawbot ingest", path, len(payload), n)
	}
	if sum := sha256.Sum256(payload); !bytes.Equal(sum[:], data[20:52]) {
		return nil, fmt.Errorf("index %s is corrupt: checksum mismatch; rerun lawbot ingest", path)
	}
	r := &binReader{r: bytes.NewReader(payload)}
	source := r.str()
	if wantSource != "" && source != wantSource && r.err == nil {
		return nil, fmt.Errorf("index %s: %w (built from %q, this state and build need %q); rerun lawbot ingest", path, ErrStale, source, wantSource)
	}
	ix := &Index{fields: r.strs()}
	terms := r.strs()
	ix.df = r.int32s()
	ndocs := r.u64()
	ix.n = int32(ndocs)
	nf := len(ix.fields)
	ix.off, ix.docs, ix.tf, ix.length = make([][]uint32, nf), make([][]int32, nf), make([][]uint16, nf), make([][]uint32, nf)
	for f := 0; f < nf && r.err == nil; f++ {
		ix.off[f], ix.docs[f], ix.tf[f], ix.length[f] = r.uint32s(), r.int32s(), r.uint16s(), r.uint32s()
	}
	if r.err == nil {
		r.err = ix.check(len(terms), ndocs)
	}
	if r.err != nil {
		return nil, fmt.Errorf("index %s is corrupt: %v; rerun lawbot ingest", path, r.err)
	}
	ix.terms = make(map[string]int32, len(terms))
	for i, t := range terms {
		ix.terms[t] = int32(i)
	}
	ix.finish()
	return ix, nil
}

// check verifies that the arrays fit together, so that a payload that passes the checksum but
// was not written by this build's Save is refused here rather than panicking in Search.
func (ix *Index) check(nterms int, n uint64) error {
	if n > math.MaxInt32 || len(ix.df) != nterms {
		return fmt.Errorf("%d documents, %d document frequencies for %d terms", n, len(ix.df), nterms)
	}
	for f := range ix.fields {
		off, docs := ix.off[f], ix.docs[f]
		if len(off) != nterms+1 || len(ix.tf[f]) != len(docs) || uint64(len(ix.length[f])) != n {
			return fmt.Errorf("field %d: array lengths disagree", f)
		}
		if off[0] != 0 || int(off[nterms]) != len(docs) {
			return fmt.Errorf("field %d: postings offsets out of range", f)
		}
		for t := range nterms {
			if off[t] > off[t+1] {
				return fmt.Errorf("field %d: postings offsets out of order", f)
			}
		}
		for _, d := range docs {
			if d < 0 || uint64(d) >= n {
				return fmt.Errorf("field %d: document %d of %d", f, d, n)
			}
		}
	}
	return nil
}

// binWriter writes length-prefixed little-endian arrays; the first error sticks.
type binWriter struct {
	w   io.Writer
	err error
}

func (w *binWriter) put(v any) {
	if w.err == nil {
		w.err = binary.Write(w.w, binary.LittleEndian, v)
	}
}
func (w *binWriter) u64(v uint64)       { w.put(v) }
func (w *binWriter) str(s string)       { w.u64(uint64(len(s))); w.put([]byte(s)) }
func (w *binWriter) int32s(v []int32)   { w.u64(uint64(len(v))); w.put(v) }
func (w *binWriter) uint32s(v []uint32) { w.u64(uint64(len(v))); w.put(v) }
func (w *binWriter) uint16s(v []uint16) { w.u64(uint64(len(v))); w.put(v) }
func (w *binWriter) strs(v []string)    { w.str(strings.Join(v, "\x00")); w.u64(uint64(len(v))) }

// binReader reads what binWriter wrote; lengths are checked against what is left, so a
// damaged file cannot ask for a huge allocation.
type binReader struct {
	r   *bytes.Reader
	err error
}

func (r *binReader) get(v any) {
	if r.err == nil {
		r.err = binary.Read(r.r, binary.LittleEndian, v)
	}
}

func (r *binReader) u64() uint64 {
	var v uint64
	r.get(&v)
	return v
}

func (r *binReader) count(size int) int {
	n := r.u64()
	if r.err == nil && n > uint64(r.r.Len()/size) {
		r.err = fmt.Errorf("array of %d elements exceeds the %d bytes left", n, r.r.Len())
	}
	if r.err != nil {
		return 0
	}
	return int(n)
}

func (r *binReader) str() string {
	b := make([]byte, r.count(1))
	r.get(b)
	return string(b)
}

func (r *binReader) strs() []string {
	joined := r.str()
	n := r.u64()
	if r.err != nil || n == 0 {
		return nil
	}
	out := strings.Split(joined, "\x00")
	if uint64(len(out)) != n {
		r.err = fmt.Errorf("string list of %d, header says %d", len(out), n)
		return nil
	}
	return out
}

func (r *binReader) int32s() []int32 {
	v := make([]int32, r.count(4))
	r.get(v)
	return v
}

func (r *binReader) uint32s() []uint32 {
	v := make([]uint32, r.count(4))
	r.get(v)
	return v
}

func (r *binReader) uint16s() []uint16 {
	v := make([]uint16, r.count(2))
	r.get(v)
	return v
}
