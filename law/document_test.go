package law

import "testing"

func TestDocument(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"article", (&Statute{Title: "임대차의 의의", Text: "임대차는 당사자 일방이 …"}).Document(), "임대차의 의의\n임대차는 당사자 일방이 …"},
		{"deleted article has no caption", (&Statute{Text: "삭제 <2015. 2. 3.>"}).Document(), "삭제 <2015. 2. 3.>"},
		{"precedent", (&Precedent{Title: "손해배상(기)", Holding: "[1] 임대인의 의무", Summary: "[1] 임대인은 …"}).Document(), "손해배상(기)\n[1] 임대인의 의무\n[1] 임대인은 …"},
		{"precedent without 판시사항", (&Precedent{Title: "사기", Summary: "기망행위란 …"}).Document(), "사기\n기망행위란 …"},
		{"blank parts", (&Precedent{Title: " ", Holding: "\n", Summary: "요지"}).Document(), "요지"},
		{"q&a", (&QA{Question: "보증금을 안 돌려줘요", Answer: "임차권등기명령을 …"}).Document(), "보증금을 안 돌려줘요\n임차권등기명령을 …"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: Document() = %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}
