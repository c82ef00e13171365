package server

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"제 주민번호는 900101-1234567이고 연락처는 010-1234-5678, abc@example.com, 계좌 110-123-456789",
			"제 주민번호는 [RRN]이고 연락처는 [PHONE], [EMAIL], 계좌 [ACCOUNT]"},
		{"외국인등록번호 850505 - 5123456 입니다", "외국인등록번호 [RRN] 입니다"},
		{"01012345678로 연락 주세요", "[PHONE]로 연락 주세요"},
		{"사무실 02-123-4567, 팩스 031-987-6543", "사무실 [PHONE], 팩스 [PHONE]"},
		{"+82-10-9876-5432 (해외)", "[PHONE] (해외)"},
		{"010 1234 5678 또는 010.1234.5678", "[PHONE] 또는 [PHONE]"},
		{"메일은 hong.gildong+law@mail.co.kr 로", "메일은 [EMAIL] 로"},
		{"국민은행 123456-78-901234, 농협 301-1234-5678-91", "국민은행 [ACCOUNT], 농협 [ACCOUNT]"},
		{"계좌번호 1002345678901로 보냈어요", "계좌번호 [ACCOUNT]로 보냈어요"},
		// Shapes a probe got past the patterns: the two halves of a 주민등록번호 split by a space,
		// full-width digits from a Korean input method, an "@" spelled out.
		{"주민번호 900101 1234567 입니다", "주민번호 [RRN] 입니다"},
		{"연락처 ０１０-１２３４-５６７８, 주민번호 ９００１０１－１２３４５６７", "연락처 [PHONE], 주민번호 [RRN]"},
		{"메일 hong(at)example.com 이나 kim [AT] law.co.kr 로", "메일 [EMAIL] 이나 [EMAIL] 로"},
		// Ordinary legal text is untouched.
		{"전세 계약이 끝났는데 집주인이 보증금 5,000만 원을 안 돌려줘요.", ""},
		{"2024-01-15에 계약했고 2016다235411 판결과 민법 제618조, 제3조의2를 봤어요", ""},
		{"임대차기간 2년, 월세 50만원, 1층 101호", ""},
		{"서울중앙지방법원 2023가단5123456 사건", ""},
		{"보증금 5000 만원 (at least 2년) [참고]", ""},
	}
	for _, tt := range tests {
		want := tt.want
		if want == "" {
			want = tt.in
		}
		if got := Redact(tt.in); got != want {
			t.Errorf("Redact(%q)\n got %q\nwant %q", tt.in, got, want)
		}
	}
}

type stringer string

func (s stringer) String() string { return string(s) }

func TestRedactingHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(NewRedactingHandler(slog.NewJSONHandler(&buf, nil)))
	log = log.With("user", "abc@example.com")
	log.Info("연락처 010-1234-5678",
		"question", "주민번호 900101-1234567",
		slog.Group("req", "phone", "01099998888", "n", 3),
		"err", errors.New("account 110-123-456789 not found"),
		"s", stringer("mail x@y.org"),
		"m", map[string]string{"q": "900101-1234567"},
	)
	out := buf.String()
	for _, leak := range []string{"abc@example.com", "010-1234-5678", "900101-1234567", "01099998888", "110-123-456789", "x@y.org"} {
		if strings.Contains(out, leak) {
			t.Errorf("log line carries %q:\n%s", leak, out)
		}
	}
	assertContains(t, "log line", out, `"msg":"연락처 [PHONE]"`, `"user":"[EMAIL]"`, `"n":3`, `"phone":"[PHONE]"`)
	if NewRedactingHandler(NewRedactingHandler(slog.DiscardHandler)).next != slog.DiscardHandler {
		t.Error("wrapping twice nests the handler")
	}
}

func FuzzRedact(f *testing.F) {
	f.Add("제 주민번호는 900101-1234567이고 연락처는 010-1234-5678, abc@example.com, 계좌 110-123-456789")
	f.Add("2016다235411")
	f.Fuzz(func(t *testing.T, s string) {
		r := Redact(s)
		if Redact(r) != r {
			t.Errorf("Redact is not idempotent on %q: %q", s, r)
		}
		if rrnRe.MatchString(r) || emailRe.MatchString(r) {
			t.Errorf("Redact(%q) = %q still holds personal data", s, r)
		}
	})
}
