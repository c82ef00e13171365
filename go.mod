module github.com/lawbot-kr/lawbot

go 1.26.8

require gopkg.in/yaml.v3 v3.0.1

require (
	github.com/ikawaha/kagome-dict v1.1.7 // indirect
	github.com/ikawaha/kagome-dict-ko v0.2.1 // indirect
	github.com/ikawaha/kagome-dict/ipa v1.2.6 // indirect
	github.com/ikawaha/kagome-dict/uni v1.2.6 // indirect
	github.com/ikawaha/kagome/v2 v2.10.3 // indirect
)
