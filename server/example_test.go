package server_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/lawbot-kr/lawbot/server"
)

func ExampleRedact() {
	fmt.Println(server.Redact("제 주민번호는 900101-1234567이고 연락처는 010-1234-5678, abc@example.com, 계좌 110-123-456789"))
	fmt.Println(server.Redact("민법 제618조와 2016다235411 판결 (2024-01-15)"))
	// Output:
	// 제 주민번호는 [RRN]이고 연락처는 [PHONE], [EMAIL], 계좌 [ACCOUNT]
	// 민법 제618조와 2016다235411 판결 (2024-01-15)
}

func ExampleNew() {
	graphql := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"data":{"__typename":"Query"}}`)
	})
	s := server.New(server.Options{GraphQL: graphql, MaxBodyBytes: 1 << 10, Rate: 5, Burst: 10})
	// In a program: go load(...); s.SetReady(true) once loaded; s.Run(ctx) blocks until SIGINT.

	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	fmt.Println("readyz before loading:", rec.Code)

	s.SetReady(true)
	rec = httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	fmt.Println("readyz once loaded:", rec.Code)

	rec = httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("POST", "/graphql", strings.NewReader(strings.Repeat("x", 2<<10))))
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output:
	// readyz before loading: 503
	// readyz once loaded: 200
	// 413 {"errors":[{"message":"the request body is larger than 1024 bytes","extensions":{"code":"REQUEST_TOO_LARGE"}}]}
}
