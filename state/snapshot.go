package state

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"unsafe"

	"github.com/lawbot-kr/lawbot/internal/atomicfile"
	"github.com/lawbot-kr/lawbot/law"
)

// The snapshot is one file: a fixed header, then the records as length-prefixed blocks.
//
//	offset size
//	0      8    magic "LAWBOTSS"
//	8      4    format version (little endian, as every integer here)
//	12     4    statute count
//	16     4    precedent count
//	20     4    Q&A count
//	24     8    payload length in bytes
//	32     32   SHA-256 of payload followed by header bytes 0–31
//	64     …    payload: blocks of tag (1 byte), body length (uvarint), body
//
// A body is the record's fields in declaration order, each string as uvarint length + bytes and
// each string list as uvarint count + strings. The length and the checksum catch a truncated,
// torn or bit-flipped file before any of it is used. Loading reads the file in one go and turns
// the payload into a single string that every field is a substring of: one allocation for the
// text of 140 MB of corpus instead of a million small ones, which is what makes loading fast.
const (
	snapshotMagic = "LAWBOTSS"
	headerSize    = 64

	// FormatVersion changes whenever the snapshot layout or a record type's fields change.
	FormatVersion = 1
)

// Block tags; their order is also the order of the record kinds in reports.
const (
	tagStatute byte = 1 + iota
	tagPrecedent
	tagQA
)

// Corpus is the parsed corpus a snapshot holds.
type Corpus struct {
	Statutes   []law.Statute
	Precedents []law.Precedent
	QA         []law.QA
}

// CorruptError means a state file failed its checks and must not be used.
type CorruptError struct {
	Path   string
	Reason string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("state file %s is corrupt: %s; rerun lawbot ingest", e.Path, e.Reason)
}

// VersionError means a state file was written in another format version.
type VersionError struct {
	Path          string
	Found, Wanted uint32
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("state file %s has format version %d but this lawbot reads version %d; rerun lawbot ingest", e.Path, e.Found, e.Wanted)
}

type header struct {
	version                  uint32
	statutes, precedents, qa uint32
	payloadLen               uint64
	checksum                 [sha256.Size]byte
}

func (h *header) marshalPrefix() []byte {
	b := make([]byte, 32, headerSize)
	copy(b, snapshotMagic)
	binary.LittleEndian.PutUint32(b[8:], h.version)
	binary.LittleEndian.PutUint32(b[12:], h.statutes)
	binary.LittleEndian.PutUint32(b[16:], h.precedents)
	binary.LittleEndian.PutUint32(b[20:], h.qa)
	binary.LittleEndian.PutUint64(b[24:], h.payloadLen)
	return b
}

// parseHeader checks what can be checked before the payload is read: magic and version.
func parseHeader(path string, b []byte) (header, error) {
	var h header
	if len(b) < headerSize {
		return h, &CorruptError{path, fmt.Sprintf("%d bytes, shorter than the %d-byte header", len(b), headerSize)}
	}
	if string(b[:8]) != snapshotMagic {
		return h, &CorruptError{path, "not a lawbot snapshot (bad magic)"}
	}
	h.version = binary.LittleEndian.Uint32(b[8:])
	h.statutes = binary.LittleEndian.Uint32(b[12:])
	h.precedents = binary.LittleEndian.Uint32(b[16:])
	h.qa = binary.LittleEndian.Uint32(b[20:])
	h.payloadLen = binary.LittleEndian.Uint64(b[24:])
	copy(h.checksum[:], b[32:64])
	if h.version != FormatVersion {
		return h, &VersionError{path, h.version, FormatVersion}
	}
	return h, nil
}

// SnapshotInfo describes a written or verified snapshot.
type SnapshotInfo struct {
	File       string `json:"file"`
	Size       int64  `json:"size"`
	Checksum   string `json:"sha256"` // the header's checksum, hex
	Statutes   int    `json:"statutes"`
	Precedents int    `json:"precedents"`
	QA         int    `json:"qa"`
}

func (h *header) info(path string) SnapshotInfo {
	return SnapshotInfo{File: path, Size: headerSize + int64(h.payloadLen), Checksum: hex.EncodeToString(h.checksum[:]),
		Statutes: int(h.statutes), Precedents: int(h.precedents), QA: int(h.qa)}
}

// snapshotWriter streams records into a new snapshot; nothing replaces the old one until commit.
type snapshotWriter struct {
	file *atomicfile.File
	buf  *bufio.Writer
	sum  hash.Hash
	hdr  header
	body []byte // reused per record
	lenb [binary.MaxVarintLen64]byte
}

func createSnapshot(path string) (*snapshotWriter, error) {
	f, err := atomicfile.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create snapshot: %w", err)
	}
	w := &snapshotWriter{file: f, sum: sha256.New(), hdr: header{version: FormatVersion}}
	// The header is written last, once the counts and the checksum are known.
	if _, err := f.Seek(headerSize, io.SeekStart); err != nil {
		f.Abort()
		return nil, err
	}
	w.buf = bufio.NewWriterSize(io.MultiWriter(f, w.sum), 1<<20)
	return w, nil
}

// add appends one encoded record; the body is only borrowed.
func (w *snapshotWriter) add(tag byte, body []byte) error {
	n := binary.PutUvarint(w.lenb[:], uint64(len(body)))
	w.buf.WriteByte(tag)
	w.buf.Write(w.lenb[:n])
	_, err := w.buf.Write(body)
	w.hdr.payloadLen += 1 + uint64(n) + uint64(len(body))
	switch tag {
	case tagStatute:
		w.hdr.statutes++
	case tagPrecedent:
		w.hdr.precedents++
	case tagQA:
		w.hdr.qa++
	}
	return err
}

func (w *snapshotWriter) commit() (SnapshotInfo, error) {
	if err := w.buf.Flush(); err != nil {
		w.file.Abort()
		return SnapshotInfo{}, fmt.Errorf("write snapshot: %w", err)
	}
	prefix := w.hdr.marshalPrefix()
	w.sum.Write(prefix)
	copy(w.hdr.checksum[:], w.sum.Sum(nil))
	if _, err := w.file.WriteAt(append(prefix, w.hdr.checksum[:]...), 0); err != nil {
		w.file.Abort()
		return SnapshotInfo{}, fmt.Errorf("write snapshot header: %w", err)
	}
	if err := w.file.Commit(); err != nil {
		return SnapshotInfo{}, fmt.Errorf("commit snapshot: %w", err)
	}
	return w.hdr.info(w.file.Path()), nil
}

func (w *snapshotWriter) abort() { w.file.Abort() }

// WriteSnapshot writes a corpus to path atomically.
func WriteSnapshot(path string, c *Corpus) (SnapshotInfo, error) {
	w, err := createSnapshot(path)
	if err != nil {
		return SnapshotInfo{}, err
	}
	var body []byte
	for i := range c.Statutes {
		body = appendStatute(body[:0], &c.Statutes[i])
		if err := w.add(tagStatute, body); err != nil {
			w.abort()
			return SnapshotInfo{}, err
		}
	}
	for i := range c.Precedents {
		body = appendPrecedent(body[:0], &c.Precedents[i])
		if err := w.add(tagPrecedent, body); err != nil {
			w.abort()
			return SnapshotInfo{}, err
		}
	}
	for i := range c.QA {
		body = appendQA(body[:0], &c.QA[i])
		if err := w.add(tagQA, body); err != nil {
			w.abort()
			return SnapshotInfo{}, err
		}
	}
	return w.commit()
}

// readVerified reads a snapshot file whole and checks length and checksum. It returns the
// payload; nothing of a file that fails is returned.
func readVerified(path string) (header, []byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return header{}, nil, err
	}
	h, err := parseHeader(path, data)
	if err != nil {
		return h, nil, err
	}
	payload := data[headerSize:]
	if uint64(len(payload)) != h.payloadLen {
		return h, nil, &CorruptError{path, fmt.Sprintf("payload is %d bytes, header says %d (truncated or torn write)", len(payload), h.payloadLen)}
	}
	sum := sha256.New()
	sum.Write(payload)
	sum.Write(h.marshalPrefix())
	if !bytes.Equal(sum.Sum(nil), h.checksum[:]) {
		return h, nil, &CorruptError{path, "checksum mismatch"}
	}
	return h, payload, nil
}

// VerifySnapshot checks a snapshot's length and checksum without decoding it.
func VerifySnapshot(path string) (SnapshotInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return SnapshotInfo{}, err
	}
	defer f.Close()
	hb := make([]byte, headerSize)
	if n, err := io.ReadFull(f, hb); err != nil {
		hb = hb[:n]
	}
	h, err := parseHeader(path, hb)
	if err != nil {
		return SnapshotInfo{}, err
	}
	sum := sha256.New()
	n, err := io.Copy(sum, f)
	if err != nil {
		return SnapshotInfo{}, fmt.Errorf("read %s: %w", path, err)
	}
	if uint64(n) != h.payloadLen {
		return SnapshotInfo{}, &CorruptError{path, fmt.Sprintf("payload is %d bytes, header says %d (truncated or torn write)", n, h.payloadLen)}
	}
	sum.Write(h.marshalPrefix())
	if !bytes.Equal(sum.Sum(nil), h.checksum[:]) {
		return SnapshotInfo{}, &CorruptError{path, "checksum mismatch"}
	}
	return h.info(path), nil
}

// ReadSnapshot loads and verifies a snapshot.
func ReadSnapshot(path string) (*Corpus, error) {
	c, _, err := readSnapshot(path)
	return c, err
}

// readSnapshot is ReadSnapshot that also returns what the header says.
func readSnapshot(path string) (*Corpus, SnapshotInfo, error) {
	h, payload, err := readVerified(path)
	if err != nil {
		return nil, SnapshotInfo{}, err
	}
	c := &Corpus{
		Statutes:   make([]law.Statute, 0, h.statutes),
		Precedents: make([]law.Precedent, 0, h.precedents),
		QA:         make([]law.QA, 0, h.qa),
	}
	err = eachBlock(frozenString(payload), func(tag byte, body string) error {
		d := decoder{s: body}
		switch tag {
		case tagStatute:
			c.Statutes = append(c.Statutes, d.statute())
		case tagPrecedent:
			c.Precedents = append(c.Precedents, d.precedent())
		case tagQA:
			c.QA = append(c.QA, d.qa())
		default:
			return fmt.Errorf("unknown block tag %d", tag)
		}
		return d.finish()
	})
	if err == nil && (len(c.Statutes) != int(h.statutes) || len(c.Precedents) != int(h.precedents) || len(c.QA) != int(h.qa)) {
		err = fmt.Errorf("record counts %d/%d/%d differ from the header's %d/%d/%d",
			len(c.Statutes), len(c.Precedents), len(c.QA), h.statutes, h.precedents, h.qa)
	}
	if err != nil {
		// The checksum matched, so this is a bug in the writer rather than a damaged disk; the cure
		// is the same.
		return nil, SnapshotInfo{}, &CorruptError{path, err.Error()}
	}
	return c, h.info(path), nil
}

// frozenString views a payload that is never written again as a string, without copying it:
// every decoded field is a substring of it, so the corpus text costs one 120 MB allocation
// instead of two at load time (the read buffer and its copy).
func frozenString(payload []byte) string {
	return unsafe.String(unsafe.SliceData(payload), len(payload))
}

// eachBlock walks the payload's blocks.
func eachBlock(payload string, fn func(tag byte, body string) error) error {
	for pos := 0; pos < len(payload); {
		tag := payload[pos]
		n, size := uvarint(payload[pos+1:])
		if size <= 0 || uint64(len(payload)-pos-1-size) < n {
			return fmt.Errorf("bad block length at payload offset %d", pos)
		}
		start := pos + 1 + size
		if err := fn(tag, payload[start:start+int(n)]); err != nil {
			return fmt.Errorf("block at payload offset %d: %w", pos, err)
		}
		pos = start + int(n)
	}
	return nil
}

// --- record encoding -------------------------------------------------------------------------

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendStrings(b []byte, list []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(list)))
	for _, s := range list {
		b = appendString(b, s)
	}
	return b
}

// The field order below is the format; TestEncodingCoversAllFields fails when a record type
// gains a field, as a reminder to add it here and bump FormatVersion.

func appendStatute(b []byte, s *law.Statute) []byte {
	for _, f := range [...]string{s.Law, s.Article, s.Title, s.Text, s.Chapter, s.LawType, s.EffectiveDate,
		s.PromulgationDate, s.LawID, s.MST, s.URL, s.Source} {
		b = appendString(b, f)
	}
	return b
}

func appendPrecedent(b []byte, p *law.Precedent) []byte {
	for _, f := range [...]string{p.CaseNo, p.Court, p.CourtLevel, p.CaseType, p.Date, p.Title, p.Holding,
		p.Summary, p.Disposition} {
		b = appendString(b, f)
	}
	b = appendStrings(b, p.CitedStatutes)
	b = appendStrings(b, p.CitedCases)
	for _, f := range [...]string{p.CitedStatutesRaw, p.CitedCasesRaw, p.PrecedentID, p.Source} {
		b = appendString(b, f)
	}
	return b
}

func appendQA(b []byte, q *law.QA) []byte {
	for _, f := range [...]string{q.Question, q.Answer, q.Category, q.Title, q.Source, q.Origin, q.License, q.URL} {
		b = appendString(b, f)
	}
	return appendStrings(b, q.AlsoIn)
}

// decoder reads fields out of one block body; the first error sticks and later reads return "".
type decoder struct {
	s   string
	err error
}

var errShortBody = errors.New("record body ends early")

func (d *decoder) str() string {
	if d.err != nil {
		return ""
	}
	n, size := uvarint(d.s)
	if size <= 0 || uint64(len(d.s)-size) < n {
		d.err = errShortBody
		return ""
	}
	v := d.s[size : size+int(n)]
	d.s = d.s[size+int(n):]
	return v
}

func (d *decoder) strs() []string {
	if d.err != nil {
		return nil
	}
	n, size := uvarint(d.s)
	if size <= 0 || uint64(len(d.s)-size) < n {
		d.err = errShortBody
		return nil
	}
	d.s = d.s[size:]
	if n == 0 {
		return nil
	}
	list := make([]string, n)
	for i := range list {
		list[i] = d.str()
	}
	return list
}

// finish reports a short body or bytes left over.
func (d *decoder) finish() error {
	if d.err == nil && d.s != "" {
		d.err = fmt.Errorf("%d bytes left over in record body", len(d.s))
	}
	return d.err
}

func (d *decoder) statute() law.Statute {
	return law.Statute{Law: d.str(), Article: d.str(), Title: d.str(), Text: d.str(), Chapter: d.str(),
		LawType: d.str(), EffectiveDate: d.str(), PromulgationDate: d.str(), LawID: d.str(), MST: d.str(),
		URL: d.str(), Source: d.str()}
}

func (d *decoder) precedent() law.Precedent {
	return law.Precedent{CaseNo: d.str(), Court: d.str(), CourtLevel: d.str(), CaseType: d.str(), Date: d.str(),
		Title: d.str(), Holding: d.str(), Summary: d.str(), Disposition: d.str(), CitedStatutes: d.strs(),
		CitedCases: d.strs(), CitedStatutesRaw: d.str(), CitedCasesRaw: d.str(), PrecedentID: d.str(),
		Source: d.str()}
}

func (d *decoder) qa() law.QA {
	return law.QA{Question: d.str(), Answer: d.str(), Category: d.str(), Title: d.str(), Source: d.str(),
		Origin: d.str(), License: d.str(), URL: d.str(), AlsoIn: d.strs()}
}

// uvarint is binary.Uvarint over a string, so decoding never copies the payload.
func uvarint(s string) (uint64, int) {
	var x uint64
	var shift uint
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		c := s[i]
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				return 0, -(i + 1)
			}
			return x | uint64(c)<<shift, i + 1
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	return 0, 0
}
