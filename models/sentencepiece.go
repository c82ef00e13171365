package models

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	sentencepiece "github.com/eliben/go-sentencepiece"
	"google.golang.org/protobuf/encoding/protowire"
)

// GeneratorTokenizerFile is the generator's tokeniser inside its model directory: a SentencePiece
// ModelProto that training/gemma_convert.py builds from the GGUF's vocabulary.
const GeneratorTokenizerFile = "tokenizer.model"

// SentencePiece is the generator's tokeniser (Gemma's BPE vocabulary, byte fallback, no
// normalisation). Its ids equal Python SentencePiece's on the same tokenizer.model
// (testdata/generator_tokenizer.json, checked by TestSentencePieceMatchesPython). Safe for
// concurrent use.
type SentencePiece struct {
	proc *sentencepiece.Processor
	info sentencepiece.ModelInfo
	// The bytes of each piece, for streaming: piece i is text[offsets[i]:offsets[i+1]] (a
	// byte-fallback piece is its one byte, a control piece nothing).
	text    []byte
	offsets []uint32
	control map[string]int32 // control pieces (<eos>, <end_of_turn>, …) by name
}

// LoadSentencePiece reads a tokenizer.model.
func LoadSentencePiece(path string) (*SentencePiece, error) {
	proc, err := sentencepiece.NewProcessorFromPath(path)
	if err != nil {
		return nil, fmt.Errorf("load sentencepiece %s: %w", path, err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load sentencepiece %s: %w", path, err)
	}
	pieces, err := readPieces(raw)
	if err != nil {
		return nil, fmt.Errorf("load sentencepiece %s: %w", path, err)
	}
	s := &SentencePiece{proc: proc, info: *proc.ModelInfo(), control: map[string]int32{}}
	if len(pieces) != s.info.VocabularySize {
		return nil, fmt.Errorf("load sentencepiece %s: %d pieces, the processor has %d", path, len(pieces), s.info.VocabularySize)
	}
	s.offsets = make([]uint32, 0, len(pieces)+1)
	for id, p := range pieces {
		s.offsets = append(s.offsets, uint32(len(s.text)))
		switch p.kind {
		case pieceByte:
			b, ok := byteOfPiece(p.text)
			if !ok {
				return nil, fmt.Errorf("load sentencepiece %s: byte piece %q", path, p.text)
			}
			s.text = append(s.text, b)
		case pieceControl:
			s.control[p.text] = int32(id)
		default: // the processor's own text: the separator as a space, the unknown piece's surface
			s.text = append(s.text, s.proc.Decode([]int{id})...)
		}
	}
	s.offsets = append(s.offsets, uint32(len(s.text)))
	return s, nil
}

// PieceBytes are the bytes id stands for in a text: one byte for a byte-fallback piece (which
// may be part of a UTF-8 character), none for a control piece or an id outside the vocabulary.
// The slice is shared: do not modify it.
func (s *SentencePiece) PieceBytes(id int32) []byte {
	if id < 0 || int(id) >= len(s.offsets)-1 {
		return nil
	}
	return s.text[s.offsets[id]:s.offsets[id+1]:s.offsets[id+1]]
}

// ControlID is the id of a control piece such as "<end_of_turn>"; false when there is none.
func (s *SentencePiece) ControlID(piece string) (int32, bool) {
	id, ok := s.control[piece]
	return id, ok
}

// The piece types of SentencePiece's ModelProto that decoding treats apart.
const (
	pieceControl = 3
	pieceByte    = 6
)

type protoPiece struct {
	text string
	kind int
}

// readPieces reads the pieces (field 1 of ModelProto: piece = 1, type = 3) of a serialised
// SentencePiece model; the other fields are skipped.
func readPieces(b []byte) ([]protoPiece, error) {
	var out []protoPiece
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
		if num != 1 || typ != protowire.BytesType {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return nil, protowire.ParseError(n)
			}
			b = b[n:]
			continue
		}
		msg, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
		p := protoPiece{kind: 1} // NORMAL unless the type says otherwise
		for len(msg) > 0 {
			num, typ, n := protowire.ConsumeTag(msg)
			if n < 0 {
				return nil, protowire.ParseError(n)
			}
			msg = msg[n:]
			switch {
			case num == 1 && typ == protowire.BytesType:
				v, n := protowire.ConsumeBytes(msg)
				if n < 0 {
					return nil, protowire.ParseError(n)
				}
				p.text, msg = string(v), msg[n:]
			case num == 3 && typ == protowire.VarintType:
				v, n := protowire.ConsumeVarint(msg)
				if n < 0 {
					return nil, protowire.ParseError(n)
				}
				p.kind, msg = int(v), msg[n:]
			default:
				n := protowire.ConsumeFieldValue(num, typ, msg)
				if n < 0 {
					return nil, protowire.ParseError(n)
				}
				msg = msg[n:]
			}
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, errors.New("no pieces")
	}
	return out, nil
}

// byteOfPiece reads a byte-fallback piece, "<0xEA>".
func byteOfPiece(p string) (byte, bool) {
	h, ok := strings.CutPrefix(p, "<0x")
	if !ok || !strings.HasSuffix(h, ">") {
		return 0, false
	}
	v, err := strconv.ParseUint(strings.TrimSuffix(h, ">"), 16, 8)
	return byte(v), err == nil
}

// Encode returns text's ids, without the beginning-of-sequence id (the generator's prompt adds
// it once, in front of everything).
func (s *SentencePiece) Encode(text string) []int32 {
	toks := s.proc.Encode(text)
	ids := make([]int32, len(toks))
	for i, t := range toks {
		ids[i] = int32(t.ID)
	}
	return ids
}

// Decode returns the text of ids; control ids (<bos>, <eos>, …) are dropped, and ids outside the
// vocabulary too, rather than failing. Byte pieces that do not make whole UTF-8 characters decode
// as U+FFFD, so a stream decodes the ids it has so far, not one id at a time.
func (s *SentencePiece) Decode(ids []int32) string {
	in := make([]int, 0, len(ids))
	for _, id := range ids {
		if id >= 0 && int(id) < s.info.VocabularySize {
			in = append(in, int(id))
		}
	}
	return s.proc.Decode(in)
}

// VocabSize is the number of pieces (the generator's logits have one per piece).
func (s *SentencePiece) VocabSize() int { return s.info.VocabularySize }

// BOS and EOS are the beginning- and end-of-sequence ids (-1 when the model has none).
func (s *SentencePiece) BOS() int32 { return int32(s.info.BeginningOfSentenceID) }
func (s *SentencePiece) EOS() int32 { return int32(s.info.EndOfSentenceID) }
