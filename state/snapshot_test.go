package state

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/lawbot-kr/lawbot/internal/atomicfile"
	"github.com/lawbot-kr/lawbot/law"
)

func sampleCorpus() *Corpus {
	return &Corpus{
		Statutes: []law.Statute{
			{Law: "민법", Article: "제618조", Title: "임대차의 의의", Text: "임대차는 당사자 일방이 상대방에게 목적물을 사용, 수익하게 할 것을 약정하고 …",
				Chapter: "제3편 채권 > 제2장 계약 > 제7절 임대차", LawType: "법률", EffectiveDate: "2026-03-17",
				PromulgationDate: "2026-03-17", LawID: "001706", MST: "284415", URL: "https://www.law.go.kr/법령/민법",
				Source: "xxyy89890-wq/legalize-kr@7460e2a014b5/kr/민법/법률.md"},
			{Law: "민법", Article: "제621조", Text: "삭제 <2013.4.5>"},
		},
		Precedents: []law.Precedent{
			{CaseNo: "2025다210005, 210006", Court: "대법원", CourtLevel: "대법원", CaseType: "민사", Date: "2025-06-12",
				Title: "건물인도·기타(금전)", Holding: "[1] 임대차계약관계가 소멸된 이후 …", Disposition: "원심판결의 본소청구 중 …",
				CitedStatutes: []string{"민법 제618조", "민법 제741조"}, CitedCases: []string{"98다8554", "2018다240424"},
				CitedStatutesRaw: "[1] 민법 제618조, 제741조", CitedCasesRaw: "[1] 대법원 1998. 7. 10. 선고 98다8554 판결",
				PrecedentID: "613159", Source: "Bullskc/Legalize-KR/precedent-kr/민사/대법원/2025다210005_210006.md"},
			{CaseNo: "2016다235411", Court: "대법원", Date: "2020-04-29", Title: "임대차보증금"},
		},
		QA: []law.QA{
			{Question: "다른 사람의 주택을 이용하는 방법은 어떠한 것들이 있나요?", Answer: "네 가지의 형태로 구분할 수 있습니다.",
				Category: "부동산/임대차 > 주택임대차", AlsoIn: []string{"jiwoochris/LAW-Alpaca@2394aec16a88/생활법령.json#526"}},
		},
	}
}

func writeSample(t *testing.T) (path string, c *Corpus) {
	t.Helper()
	path = filepath.Join(t.TempDir(), SnapshotFile)
	c = sampleCorpus()
	if _, err := WriteSnapshot(path, c); err != nil {
		t.Fatal(err)
	}
	return path, c
}

func TestSnapshotRoundTrip(t *testing.T) {
	path, want := writeSample(t)
	got, err := ReadSnapshot(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip changed the corpus:\ngot  %+v\nwant %+v", got, want)
	}
	info, err := VerifySnapshot(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Statutes != 2 || info.Precedents != 2 || info.QA != 1 {
		t.Errorf("VerifySnapshot counts = %+v", info)
	}
}

func TestSnapshotEmptyCorpus(t *testing.T) {
	path := filepath.Join(t.TempDir(), SnapshotFile)
	if _, err := WriteSnapshot(path, &Corpus{}); err != nil {
		t.Fatal(err)
	}
	c, err := ReadSnapshot(path)
	if err != nil || len(c.Statutes)+len(c.Precedents)+len(c.QA) != 0 {
		t.Fatalf("ReadSnapshot(empty) = %+v, %v", c, err)
	}
}

// assertRejected checks that a damaged snapshot fails both readers with an error telling the
// user to re-ingest.
func assertRejected(t *testing.T, path, what string) {
	t.Helper()
	c, err := ReadSnapshot(path)
	if err == nil {
		t.Fatalf("%s: ReadSnapshot loaded %d precedents from a damaged file", what, len(c.Precedents))
	}
	var ce *CorruptError
	var ve *VersionError
	if !errors.As(err, &ce) && !errors.As(err, &ve) {
		t.Errorf("%s: error %v (%T) is neither CorruptError nor VersionError", what, err, err)
	}
	if !strings.Contains(err.Error(), "rerun lawbot ingest") || !strings.Contains(err.Error(), path) {
		t.Errorf("%s: error %q does not name the file and the cure", what, err)
	}
	if _, err := VerifySnapshot(path); err == nil {
		t.Errorf("%s: VerifySnapshot accepted a damaged file", what)
	}
	if _, err := Load(filepath.Dir(path)); err == nil {
		t.Errorf("%s: Load accepted a damaged file", what)
	}
}

func TestSnapshotTruncatedDetected(t *testing.T) {
	path, _ := writeSample(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 7, headerSize - 1, headerSize, headerSize + 10, len(data) / 2, len(data) - 1} {
		if err := os.WriteFile(path, data[:n], 0o644); err != nil {
			t.Fatal(err)
		}
		assertRejected(t, path, "truncated to "+strconv.Itoa(n))
	}
	// A torn write can also leave the file longer than the header says.
	os.WriteFile(path, append(data, 0), 0o644)
	assertRejected(t, path, "one byte appended")
}

func TestSnapshotFlippedByteDetected(t *testing.T) {
	path, _ := writeSample(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	offsets := map[string]int{
		"magic": 0, "version": 8, "statute count": 12, "payload length": 24, "checksum": 40,
		"first block tag": headerSize, "payload middle": (headerSize + len(data)) / 2, "last byte": len(data) - 1,
	}
	for where, off := range offsets {
		damaged := append([]byte(nil), data...)
		damaged[off] ^= 0x01
		if err := os.WriteFile(path, damaged, 0o644); err != nil {
			t.Fatal(err)
		}
		assertRejected(t, path, "flipped "+where)
	}
}

func TestInterruptedWriteKeepsPreviousState(t *testing.T) {
	path, want := writeSample(t)
	dir := filepath.Dir(path)

	// A second write dies after some records: its temporary file stays, never renamed.
	w, err := createSnapshot(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.add(tagStatute, appendStatute(nil, &law.Statute{Law: "민법", Article: "제1조"})); err != nil {
		t.Fatal(err)
	}
	w.buf.Flush()
	w.file.Close() // the process is gone; no commit, no abort

	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Fatalf("want the snapshot and a leftover temporary file, got %d entries", len(entries))
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatalf("Load after an interrupted write: %v", err)
	}
	if !reflect.DeepEqual(got.Corpus, *want) {
		t.Error("Load after an interrupted write did not return the previous corpus")
	}
	removed, err := atomicfile.RemoveStale(dir)
	if err != nil || len(removed) != 1 {
		t.Errorf("removeStaleTemps = %v, %v; want the one leftover", removed, err)
	}
}

// TestEncodingCoversAllFields fails when a record type gains a field the snapshot does not store,
// so the encoder and FormatVersion are updated together with law/types.go.
func TestEncodingCoversAllFields(t *testing.T) {
	for _, tt := range []struct {
		v      any
		fields int
	}{
		{law.Statute{}, 12},
		{law.Precedent{}, 15},
		{law.QA{}, 9},
	} {
		if n := reflect.TypeOf(tt.v).NumField(); n != tt.fields {
			t.Errorf("%T has %d fields, the snapshot encodes %d: update the encoder and bump FormatVersion",
				tt.v, n, tt.fields)
		}
	}
	// Every field set to a distinct value survives the round trip.
	fill := func(v reflect.Value) {
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			switch f.Kind() {
			case reflect.String:
				f.SetString("v" + strconv.Itoa(i))
			case reflect.Slice:
				f.Set(reflect.ValueOf([]string{"a" + strconv.Itoa(i), "b" + strconv.Itoa(i)}))
			}
		}
	}
	c := &Corpus{Statutes: make([]law.Statute, 1), Precedents: make([]law.Precedent, 1), QA: make([]law.QA, 1)}
	fill(reflect.ValueOf(&c.Statutes[0]).Elem())
	fill(reflect.ValueOf(&c.Precedents[0]).Elem())
	fill(reflect.ValueOf(&c.QA[0]).Elem())
	path := filepath.Join(t.TempDir(), SnapshotFile)
	if _, err := WriteSnapshot(path, c); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSnapshot(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Errorf("fields lost:\ngot  %+v\nwant %+v", got, c)
	}
}

func FuzzReadSnapshot(f *testing.F) {
	dir := f.TempDir()
	path := filepath.Join(dir, SnapshotFile)
	if _, err := WriteSnapshot(path, sampleCorpus()); err != nil {
		f.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	f.Add(data)
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), SnapshotFile)
		os.WriteFile(p, data, 0o644)
		ReadSnapshot(p) // must not panic
	})
}
