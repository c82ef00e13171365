package search

import (
	"testing"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/entity"
)

// TestMilvusReadLevel: reads go at the configured level, except within StrongAfterWrite of the
// store's own last write, when they must wait for that write. No server and no sleeping: the
// store is built by hand and "an hour ago" is a store born an hour ago.
func TestMilvusReadLevel(t *testing.T) {
	for _, tt := range []struct {
		consistency string
		level       entity.ConsistencyLevel
	}{{"", entity.ClBounded}, {"bounded", entity.ClBounded}, {"strong", entity.ClStrong}} {
		opt := MilvusOptions{Consistency: tt.consistency}.withDefaults()
		s := &milvusStore{opt: opt, level: tt.level, born: time.Now().Add(-time.Hour)}
		if got := s.readLevel(); got != tt.level {
			t.Errorf("%q before any write: read level %v, want %v", tt.consistency, got, tt.level)
		}
		s.lastWrite.Store(int64(time.Second)) // 59 min ago
		if got := s.readLevel(); got != tt.level {
			t.Errorf("%q an hour after a write: read level %v, want %v", tt.consistency, got, tt.level)
		}
		s.wrote()
		if got := s.readLevel(); got != entity.ClStrong {
			t.Errorf("%q right after a write: read level %v, want strong", tt.consistency, got)
		}
		s.lastWrite.Store(int64(time.Hour - opt.StrongAfterWrite - time.Second))
		if got := s.readLevel(); got != tt.level {
			t.Errorf("%q just past StrongAfterWrite: read level %v, want %v", tt.consistency, got, tt.level)
		}
	}
	if d := DefaultMilvusOptions(); d.Consistency != "bounded" || d.StrongAfterWrite < 5*time.Second {
		t.Errorf("defaults %+v: want bounded reads, strong for at least Milvus's 5 s grace time after a write", d)
	}
}
