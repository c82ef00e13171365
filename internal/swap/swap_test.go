package swap

import (
	"sync"
	"testing"
	"time"
)

func TestSlot(t *testing.T) {
	var mu sync.Mutex
	closed := map[string]int64{}
	s := Slot[string]{Drain: 300 * time.Millisecond, Close: func(v string, cut int64) {
		mu.Lock()
		closed[v] = cut
		mu.Unlock()
	}}
	if s.Pin(func(string) { t.Error("ran on an empty slot") }) {
		t.Error("pinned an empty slot")
	}
	s.Install("v1")
	hold := make(chan struct{})
	in := make(chan struct{})
	go s.Pin(func(v string) { close(in); <-hold }) // outlives the drain: cut
	<-in
	s.Install("v2")
	if v, _ := s.Current(); v != "v2" {
		t.Errorf("current %q", v)
	}
	s.Pin(func(v string) {
		if v != "v2" {
			t.Errorf("new operation on %q", v)
		}
	})
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	_, early := closed["v1"]
	mu.Unlock()
	if early {
		t.Error("v1 closed while pinned, before the drain ran out")
	}
	s.Shutdown() // waits for v1 (cut at the drain) and v2
	close(hold)
	if cut, ok := closed["v1"]; !ok || cut != 1 {
		t.Errorf("v1 closed %v with %d cut, want 1 (pinned past the drain)", ok, cut)
	}
	if cut, ok := closed["v2"]; !ok || cut != 0 {
		t.Errorf("v2 closed %v with %d cut", ok, cut)
	}
	if _, ok := s.Current(); ok {
		t.Error("not empty after Shutdown")
	}
}
