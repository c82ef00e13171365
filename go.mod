module github.com/lawbot-kr/lawbot

go 1.26.8
