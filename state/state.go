// Package state is LawBot's state directory (default ./var): the snapshot of the parsed corpus
// that "lawbot ingest" writes and every other command loads, and the manifest that says what it holds.
package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lawbot-kr/lawbot/law"
)

// State is a loaded state directory: the corpus, its citation graph and indexes by id.
type State struct {
	Dir string
	Corpus
	Graph *law.CitationGraph
	// Manifest is nil when the ingest that wrote the snapshot did not get to write it.
	Manifest *Manifest
	// Snapshot describes the loaded snapshot; its Checksum tags what is built from this state.
	Snapshot SnapshotInfo

	statuteIndex map[string]int32
}

// ErrNoState is matched (errors.Is) by the error Load returns for a directory without a snapshot.
var ErrNoState = errors.New("no state")

// NoStateError says a state directory holds no snapshot yet.
type NoStateError struct{ Dir string }

func (e *NoStateError) Error() string {
	return fmt.Sprintf("no state in %s; run lawbot ingest first", e.Dir)
}

func (e *NoStateError) Is(target error) bool { return target == ErrNoState }

// Load reads the snapshot in dir, verifies it and builds the citation graph. A damaged snapshot
// is an error (*CorruptError), never a partial corpus.
func Load(dir string) (*State, error) {
	corpus, info, err := readSnapshot(filepath.Join(dir, SnapshotFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, &NoStateError{Dir: dir}
	}
	if err != nil {
		return nil, err
	}
	s := &State{Dir: dir, Corpus: *corpus, Graph: law.NewCitationGraph(corpus.Precedents), Snapshot: info}
	s.statuteIndex = make(map[string]int32, len(s.Statutes))
	for i := range s.Statutes {
		s.statuteIndex[s.Statutes[i].ID()] = int32(i)
	}
	// The manifest is informational here; the snapshot's own checksum is what guards the data.
	if m, err := ReadManifest(dir); err == nil {
		s.Manifest = m
	}
	return s, nil
}

// Statute finds an article by canonical id ("민법 제618조"). Spacing slips and a missing 제
// ("민법 618조", "민법제618조") are forgiven.
func (s *State) Statute(id string) (*law.Statute, bool) {
	if i, ok := s.statuteIndex[id]; ok {
		return &s.Statutes[i], true
	}
	if norm, ok := normalizeArticleID(id); ok {
		if i, ok := s.statuteIndex[norm]; ok {
			return &s.Statutes[i], true
		}
	}
	return nil, false
}

// Precedent finds a decision by case number, including one number of a joined case.
func (s *State) Precedent(caseNo string) (*law.Precedent, bool) {
	return s.Graph.Precedent(caseNo)
}

// DecisionsNumbered lists every decision filed under caseNo: usually one, but courts reuse
// numbers (63다211 is a 대법원 and a 광주고등법원 decision). A linear scan: it serves look-ups only.
func (s *State) DecisionsNumbered(caseNo string) []*law.Precedent {
	key := law.NormalizeCaseNo(caseNo)
	var out []*law.Precedent
	for i := range s.Precedents {
		if law.NormalizeCaseNo(s.Precedents[i].CaseNo) == key {
			out = append(out, &s.Precedents[i])
		}
	}
	return out
}
