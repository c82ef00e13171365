module github.com/lawbot-kr/lawbot

go 1.26.8

require (
	github.com/ikawaha/kagome-dict-ko v0.2.1
	github.com/ikawaha/kagome/v2 v2.10.3
	gopkg.in/yaml.v3 v3.0.1
)

require github.com/ikawaha/kagome-dict v1.1.7 // indirect
