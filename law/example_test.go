package law_test

import (
	"fmt"

	"github.com/lawbot-kr/lawbot/law"
)

func ExampleCitationParser_ParseReference() {
	catalog := law.NewCatalog([]law.Statute{
		{Law: "민법", Article: "제618조"}, {Law: "민법", Article: "제623조"},
		{Law: "주택임대차보호법", Article: "제3조"}, {Law: "주택임대차보호법 시행령", Article: "제2조"},
	})
	p := law.NewCitationParser(catalog)
	for _, c := range p.ParseReference("[1] 민법 제618조, 제623조 / [2] 구 주택임대차보호법(2013. 8. 13. 법률 제12043호로 개정되기 전의 것) 제3조 제1항, 같은 법 시행령 제2조, 국가유공자법 제49조") {
		fmt.Println(c.ID(), c.Resolved)
	}
	// Output:
	// 민법 제618조 true
	// 민법 제623조 true
	// 주택임대차보호법 제3조 true
	// 주택임대차보호법 시행령 제2조 true
	// 국가유공자법 제49조 false
}

func ExampleCitationParser_Parse() {
	p := law.NewCitationParser(nil)
	for _, c := range p.Parse("「주택임대차보호법」 제3조제1항, 같은 법 제4조 및 동법 제6조의2에 따라 보증금을 돌려받을 수 있습니다.") {
		fmt.Println(c.ID())
	}
	// Output:
	// 주택임대차보호법 제3조
	// 주택임대차보호법 제4조
	// 주택임대차보호법 제6조의2
}
