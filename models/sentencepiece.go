package models

import (
	"fmt"

	sentencepiece "github.com/eliben/go-sentencepiece"
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
}

// LoadSentencePiece reads a tokenizer.model.
func LoadSentencePiece(path string) (*SentencePiece, error) {
	proc, err := sentencepiece.NewProcessorFromPath(path)
	if err != nil {
		return nil, fmt.Errorf("load sentencepiece %s: %w", path, err)
	}
	return &SentencePiece{proc: proc, info: *proc.ModelInfo()}, nil
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
