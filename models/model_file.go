package models

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
)

// The Go-native model files (the filter, the LSA) share one envelope:
//
//	magic (8 bytes) | format version uint32 | header length uint32 | header JSON | body
//	| CRC-32C of everything before it
//
// little-endian. The header comes first and in JSON so that a person (or `head -c`) can see what
// a model is; the checksum makes a truncated or damaged file fail to load instead of scoring
// nonsense.

// sealModel writes the envelope around header and the body that write produces.
func sealModel(magic string, version uint32, header any, write func(b *bytes.Buffer) error) ([]byte, error) {
	h, err := json.Marshal(header)
	if err != nil {
		return nil, fmt.Errorf("encode model header: %w", err)
	}
	var b bytes.Buffer
	b.WriteString(magic)
	b.Write(binary.LittleEndian.AppendUint32(nil, version))
	b.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(h))))
	b.Write(h)
	if err := write(&b); err != nil {
		return nil, err
	}
	b.Write(binary.LittleEndian.AppendUint32(nil, crc32.Checksum(b.Bytes(), castagnoli)))
	return b.Bytes(), nil
}

// modelCorruption makes the errors of a damaged model file: ErrCorruptModel, what is wrong, and
// the command that makes the file again.
func modelCorruption(remedy string) func(format string, args ...any) error {
	return func(format string, args ...any) error {
		return fmt.Errorf("%w: %s (%s)", ErrCorruptModel, fmt.Sprintf(format, args...), remedy)
	}
}

// openModel checks the envelope of data (magic, version, checksum), decodes the header into
// header and returns the body. kind names the file in errors ("filter", "LSA").
func openModel(data []byte, magic string, version uint32, kind, remedy string, header any) ([]byte, error) {
	corrupt := modelCorruption(remedy)
	fixed := len(magic) + 4 + 4
	if len(data) < fixed || string(data[:len(magic)]) != magic {
		return nil, corrupt("not a LawBot %s file", kind)
	}
	if v := binary.LittleEndian.Uint32(data[len(magic):]); v != version {
		return nil, fmt.Errorf("%s file format v%d; this lawbot reads v%d (%s)", kind, v, version, remedy)
	}
	if len(data) < fixed+4 {
		return nil, corrupt("truncated: %d bytes", len(data))
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, corrupt("checksum mismatch (truncated or damaged, %d bytes)", len(data))
	}
	headerLen := int(binary.LittleEndian.Uint32(data[len(magic)+4:]))
	rest := body[fixed:]
	if headerLen > len(rest) {
		return nil, corrupt("header of %d bytes in a %d-byte file", headerLen, len(data))
	}
	if err := json.Unmarshal(rest[:headerLen], header); err != nil {
		return nil, corrupt("header: %v", err)
	}
	return rest[headerLen:], nil
}
