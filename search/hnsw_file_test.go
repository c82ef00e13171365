package search

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"testing"
)

func fuzzSeed(tb testing.TB) []byte {
	e, _ := NewEmbedded("", 4, HNSWOptions{M: 2})
	var rs []Record
	for i := range 20 {
		v := Vector{float32(i), 1, float32(i % 3), 0.5}
		rs = append(rs, Record{ID: string(rune('a' + i)), Vector: v, Fields: Fields{Kind: "qa", Date: "2020-01-01"}})
	}
	if err := e.Upsert(context.Background(), rs); err != nil {
		tb.Fatal(err)
	}
	e.Delete(context.Background(), []string{"c"})
	var buf seekBuffer
	if err := e.writePayload(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.b
}

// seekBuffer is an in-memory io.WriteSeeker.
type seekBuffer struct {
	b   []byte
	off int
}

func (s *seekBuffer) Write(p []byte) (int, error) {
	if need := s.off + len(p); need > len(s.b) {
		s.b = append(s.b, make([]byte, need-len(s.b))...)
	}
	copy(s.b[s.off:], p)
	s.off += len(p)
	return len(p), nil
}

func (s *seekBuffer) Seek(off int64, whence int) (int64, error) {
	s.off = int(off) // only SeekStart is used
	return off, nil
}

// FuzzDecodeHNSW: no input makes the reader panic or hang. Inputs are taken as payloads and
// given a valid header, so that the fuzzer reaches the structure checks instead of stopping at
// the checksum; a decoded store must answer a search.
func FuzzDecodeHNSW(f *testing.F) {
	seed := fuzzSeed(f)
	f.Add(seed[hnswHeader:])
	f.Add(seed[hnswHeader : len(seed)-5])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, payload []byte) {
		head := append([]byte(hnswMagic), make([]byte, 16)...)
		binary.LittleEndian.PutUint32(head[8:], hnswVersion)
		binary.LittleEndian.PutUint64(head[12:], uint64(len(payload)))
		binary.LittleEndian.PutUint32(head[20:], crc32.Checksum(payload, castagnoli))
		e := &Embedded{opt: HNSWOptions{}.withDefaults()}
		if err := e.decode(append(head, payload...), 4); err != nil {
			return
		}
		for _, f := range []Filter{{}, {Kind: "qa"}} {
			if _, err := e.Search(context.Background(), Vector{1, 0, 0, 0}, 3, f); err != nil {
				t.Fatalf("Search on a decoded store: %v", err)
			}
		}
		if err := e.Upsert(context.Background(), []Record{{ID: "new", Vector: Vector{0, 1, 0, 0}}}); err != nil {
			t.Fatalf("Upsert on a decoded store: %v", err)
		}
	})
}

func TestDecodeRoundTrip(t *testing.T) {
	data := fuzzSeed(t)
	e := &Embedded{opt: HNSWOptions{}.withDefaults()}
	if err := e.decode(data, 4); err != nil {
		t.Fatal(err)
	}
	var buf seekBuffer
	if err := e.writePayload(&buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.b, data) {
		t.Error("decode then encode changed the file")
	}
}
