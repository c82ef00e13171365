package models

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestLSASaveLoadRoundTrip(t *testing.T) {
	e, err := FitLSA(topicDocs(), spaceAnalyzer{}, LSAOptions{Dim: 8, Oversample: 4, MinDocFreq: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	e.SetSource("kagome-ko/1", "abc123")
	path := LSAPath(t.TempDir())
	if err := e.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := LoadLSA(path, spaceAnalyzer{})
	if err != nil {
		t.Fatal(err)
	}
	if info := got.Info(); info.Dim != 8 || info.Source != "abc123" || info.Analyzer != "kagome-ko/1" || info.Terms != len(e.vocab) || info.Docs != 600 {
		t.Errorf("info %+v", info)
	}
	if !slices.Equal(got.Terms(), e.Terms()) {
		t.Errorf("vocabulary changed: %v vs %v", got.Terms(), e.Terms())
	}
	for _, text := range []string{"임차인 보증금 전세 경우", "근로자 해고 임금", "없는 단어"} {
		if a, b := e.Embed(text), got.Embed(text); !slices.Equal(a, b) {
			t.Errorf("%q embeds differently after a round trip:\n%v\n%v", text, a, b)
		}
	}
}

func TestLoadLSADetectsDamage(t *testing.T) {
	e, err := FitLSA(topicDocs(), spaceAnalyzer{}, LSAOptions{Dim: 8, Oversample: 4, MinDocFreq: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	good, err := e.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	flipped := slices.Clone(good)
	flipped[len(flipped)/2] ^= 0x10
	cases := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"other file", []byte("LBFILTER\x01\x00\x00\x00")},
		{"truncated", good[:len(good)-100]},
		{"header only", good[:40]},
		{"one bit flipped", flipped},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.name)
			if err := os.WriteFile(path, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := LoadLSA(path, spaceAnalyzer{}); !errors.Is(err, ErrCorruptModel) {
				t.Errorf("want ErrCorruptModel, got %v", err)
			}
		})
	}
	if _, err := LoadLSA(filepath.Join(dir, "missing"), spaceAnalyzer{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: want fs.ErrNotExist, got %v", err)
	}
}
