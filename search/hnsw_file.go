package search

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"

	"github.com/lawbot-kr/lawbot/internal/atomicfile"
)

// The embedded store's file: a header of magic, format version, payload length and CRC-32C of
// the payload, then the payload. The length catches a truncated file before the checksum is
// computed, the checksum a torn or bit-flipped one. CRC-32C rather than SHA-256 (the BM25
// index's) because the file is mostly vectors, hundreds of megabytes at scale, and CRC-32C runs
// at memory speed; it detects damage, which is all that is asked of it here.
//
// Payload, little-endian: dim, M, efConstruction, node count (u32 each), entry (i32), top layer
// (u32); per node: tombstone (u8), layer (u8), id and the five fields (u32 length + bytes), then
// for each layer a u16 link count and the u32 links; last, every vector (node count × dim f32).
const (
	hnswMagic   = "LAWBOTVS"
	hnswVersion = 1
	hnswHeader  = 8 + 4 + 8 + 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// save writes the store atomically: a reader (or a crash) sees the old file or the new one.
func (e *Embedded) save() error {
	f, err := atomicfile.Create(e.path)
	if err != nil {
		return err
	}
	if err := e.writePayload(f); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// writePayload streams the payload after a header slot and fills the header in at the end, so
// that a million vectors are never held twice in memory.
func (e *Embedded) writePayload(f io.WriteSeeker) error {
	if _, err := f.Write(make([]byte, hnswHeader)); err != nil {
		return err
	}
	crc := crc32.New(castagnoli)
	cw := &countWriter{w: io.MultiWriter(f, crc)}
	bw := bufio.NewWriterSize(cw, 1<<20)
	if err := e.encode(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	head := make([]byte, 0, hnswHeader)
	head = append(head, hnswMagic...)
	head = binary.LittleEndian.AppendUint32(head, hnswVersion)
	head = binary.LittleEndian.AppendUint64(head, uint64(cw.n))
	head = binary.LittleEndian.AppendUint32(head, crc.Sum32())
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	_, err := f.Write(head)
	return err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func (e *Embedded) encode(w *bufio.Writer) error {
	g := e.g
	var b []byte
	u32 := func(v uint32) { b = binary.LittleEndian.AppendUint32(b, v) }
	str := func(s string) { u32(uint32(len(s))); b = append(b, s...) }
	u32(uint32(g.dim))
	u32(uint32(g.m))
	u32(uint32(g.efCons))
	u32(uint32(g.len()))
	u32(uint32(g.entry))
	u32(uint32(g.top))
	for i := range g.len() {
		b = append(b, boolByte(g.deleted[i]), byte(len(g.links[i])-1))
		f := e.fields[i]
		for _, s := range [...]string{e.ids[i], f.Kind, f.Law, f.Court, f.CaseType, f.Date} {
			str(s)
		}
		for _, ls := range g.links[i] {
			b = binary.LittleEndian.AppendUint16(b, uint16(len(ls)))
			for _, n := range ls {
				u32(n)
			}
		}
		if len(b) > 1<<16 {
			if _, err := w.Write(b); err != nil {
				return err
			}
			b = b[:0]
		}
	}
	for _, x := range g.vecs {
		u32(math.Float32bits(x))
		if len(b) > 1<<16 {
			if _, err := w.Write(b); err != nil {
				return err
			}
			b = b[:0]
		}
	}
	_, err := w.Write(b)
	return err
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// checkHeader verifies magic, version, length and checksum, and returns the payload.
func checkHeader(data []byte) ([]byte, error) {
	if len(data) < hnswHeader || string(data[:8]) != hnswMagic {
		return nil, errors.New("not a vector store file (bad header)")
	}
	if v := binary.LittleEndian.Uint32(data[8:]); v != hnswVersion {
		return nil, fmt.Errorf("format version %d, this build reads %d", v, hnswVersion)
	}
	payload := data[hnswHeader:]
	if n := binary.LittleEndian.Uint64(data[12:]); uint64(len(payload)) != n {
		return nil, fmt.Errorf("file is damaged: %d payload bytes, header says %d (truncated or torn write)", len(payload), n)
	}
	if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(data[20:]) {
		return nil, errors.New("file is damaged: checksum mismatch")
	}
	return payload, nil
}

// decode replaces e's graph with the file's. Beyond the checksum it checks that the structure
// holds together (links in range, layers within the top, one live node per id), so that a
// file this build did not write is refused here rather than panicking in a search.
func (e *Embedded) decode(data []byte, dim int) error {
	payload, err := checkHeader(data)
	if err != nil {
		return err
	}
	r := &payloadReader{b: payload}
	fdim, m, efCons, n := int(r.u32()), int(r.u32()), int(r.u32()), int(r.u32())
	entry, top := int32(r.u32()), int(r.u32())
	if r.err != nil {
		return fmt.Errorf("file is damaged: %w", r.err)
	}
	if fdim != dim {
		return fmt.Errorf("file holds %d-dimensional vectors, the store was opened for %d", fdim, dim)
	}
	switch {
	case m < 2 || m > 1024 || efCons < 1 || top > maxLayer:
		return fmt.Errorf("file is damaged: M %d, efConstruction %d, top layer %d", m, efCons, top)
	case uint64(n)*uint64(dim)*4 > uint64(len(payload)):
		return fmt.Errorf("file is damaged: %d vectors of %d do not fit in %d bytes", n, dim, len(payload))
	case (n == 0) != (entry == -1) || entry < -1 || int(entry) >= n:
		return fmt.Errorf("file is damaged: entry point %d of %d nodes", entry, n)
	}
	o := e.opt
	o.M, o.EfConstruction = m, efCons
	g := newHNSW(dim, o)
	g.entry, g.top = entry, top
	g.links, g.deleted = make([][][]uint32, n), make([]bool, n)
	e.ids, e.fields, e.byID, e.live = make([]string, n), make([]Fields, n), make(map[string]uint32, n), 0
	for i := range n {
		g.deleted[i] = r.u8() != 0
		level := int(r.u8())
		var s [6]string
		for j := range s {
			s[j] = r.str()
		}
		if r.err != nil {
			return fmt.Errorf("file is damaged: node %d: %w", i, r.err)
		}
		if level > top {
			return fmt.Errorf("file is damaged: node %d on layer %d above the top %d", i, level, top)
		}
		e.ids[i], e.fields[i] = s[0], Fields{Kind: s[1], Law: s[2], Court: s[3], CaseType: s[4], Date: s[5]}
		g.links[i] = make([][]uint32, level+1)
		for l := range level + 1 {
			c := int(r.u16())
			limit := m
			if l == 0 {
				limit = 2 * m
			}
			if c > limit {
				return fmt.Errorf("file is damaged: node %d has %d links on layer %d (at most %d)", i, c, l, limit)
			}
			ls := make([]uint32, c)
			for j := range ls {
				ls[j] = r.u32()
				if ls[j] >= uint32(n) {
					r.fail(fmt.Errorf("node %d links to node %d of %d", i, ls[j], n))
				}
			}
			g.links[i][l] = ls
		}
		if r.err != nil {
			return fmt.Errorf("file is damaged: %w", r.err)
		}
		if !g.deleted[i] {
			if _, dup := e.byID[s[0]]; dup {
				return fmt.Errorf("file is damaged: id %q is live twice", s[0])
			}
			e.byID[s[0]] = uint32(i)
			e.live++
		}
	}
	// A link on layer l must reach a node that has layer l, or the walk would index past it.
	for i, layers := range g.links {
		for l, ls := range layers {
			for _, to := range ls {
				if len(g.links[to]) <= l {
					return fmt.Errorf("file is damaged: node %d links on layer %d to node %d, which stops below it", i, l, to)
				}
			}
		}
	}
	if n > 0 && len(g.links[entry])-1 != top {
		return fmt.Errorf("file is damaged: entry point on layer %d, top is %d", len(g.links[entry])-1, top)
	}
	if len(r.b) != n*dim*4 {
		return fmt.Errorf("file is damaged: %d bytes of vectors for %d × %d", len(r.b), n, dim)
	}
	g.vecs = make([]float32, n*dim)
	for i := range g.vecs {
		g.vecs[i] = math.Float32frombits(binary.LittleEndian.Uint32(r.b[4*i:]))
	}
	e.g = g
	return nil
}

// payloadReader reads from a byte slice, bounds-checked; the first error sticks and later reads
// return zeros.
type payloadReader struct {
	b   []byte
	err error
}

func (r *payloadReader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *payloadReader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n > len(r.b) {
		r.fail(fmt.Errorf("%d bytes needed, %d left", n, len(r.b)))
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *payloadReader) u8() byte {
	if b := r.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *payloadReader) u16() uint16 {
	if b := r.take(2); b != nil {
		return binary.LittleEndian.Uint16(b)
	}
	return 0
}

func (r *payloadReader) u32() uint32 {
	if b := r.take(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (r *payloadReader) str() string {
	n := r.u32()
	if r.err == nil && uint64(n) > uint64(len(r.b)) {
		r.fail(fmt.Errorf("string of %d bytes, %d left", n, len(r.b)))
	}
	return string(r.take(int(n)))
}
