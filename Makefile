# The project's commands. `make test` is what CI runs (see .ci/run).
GO ?= go

.PHONY: run test check vet fmt bench peers freshness fuzz sdktest schemathesis screenshot

## run: the whole pipeline on this machine (embedded Kafka, ingest, query, load generator)
run:
	bash scripts/run.sh


## test: formatting, vet, every test with the race detector, and the official-SDK test.
## Integration tests use the Kafka broker of RECORD_TEST_BROKERS when set (see .ci/run),
## else the embedded in-memory broker. The broker-restart test runs alone, after the others:
## it restarts the broker they share.
test: check
	$(GO) test -race -count=1 ./...
	RECORD_TEST_BROKER_RESTART=1 $(GO) test -race -count=1 -run '^TestBrokerRestart$$' ./ingest/
	$(MAKE) sdktest

## sdktest: the official Huawei Cloud SDK against our query API (a nested module)
sdktest:
	cd sdktest && $(GO) vet ./... && $(GO) test -race -count=1 ./...

## schemathesis: fuzz the running query service from docs/openapi.yaml (needs Python 3)
schemathesis:
	bash scripts/schemathesis.sh

## screenshot: regenerate docs/chart.png with headless Chromium
screenshot:
	RECORD_UPDATE_SCREENSHOT=1 $(GO) test -count=1 -run TestChromiumChart ./web/

## check: gofmt and go vet, without running tests
check:
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## bench: the go test benchmarks of every package (figures go to docs/benchmarks.md)
bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./window/ ./event/
	$(GO) test -run='^$$' -bench=Apply -benchtime=3000000x ./engine/
	$(GO) test -run='^$$' -bench='MinuteTick' ./engine/
	$(GO) test -run='^$$' -bench='MemoryPerOpenRecording' -benchtime=1x ./engine/
	$(GO) test -run='^$$' -bench='Handler|StorePeaks' -benchmem ./query/
	$(GO) test -run='^$$' -bench=LoopbackHTTP -benchtime=200000x ./query/
	@if [ -n "$$RECORD_TEST_BROKERS" ]; then $(GO) test -run='^$$' -bench=IngestThroughput -benchtime=1000000x ./bench/; \
	else echo "set RECORD_TEST_BROKERS (scripts/kafka/kafka.sh start) for the end-to-end ingest benchmark"; fi

## peers: the same table from the same raw events by DuckDB and by our pipeline, timed and
## checked hour by hour (bench/peers; installs DuckDB in a venv; needs RECORD_TEST_BROKERS)
peers:
	bash scripts/peers.sh

## freshness: produce → visible at the API, p50/p99, under live load (needs RECORD_TEST_BROKERS)
freshness:
	$(GO) run ./bench/cmd/freshness --brokers "$$RECORD_TEST_BROKERS"

## fuzz: each fuzz target for FUZZTIME (default 30s)
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzDecode -fuzztime=$(FUZZTIME) ./event/
	$(GO) test -run='^$$' -fuzz=FuzzParseTime -fuzztime=$(FUZZTIME) ./event/
	$(GO) test -run='^$$' -fuzz=FuzzRestore -fuzztime=$(FUZZTIME) ./engine/
	$(GO) test -run='^$$' -fuzz=FuzzDecode -fuzztime=$(FUZZTIME) ./results/
	$(GO) test -run='^$$' -fuzz=FuzzParseSource -fuzztime=$(FUZZTIME) ./results/
	$(GO) test -run='^$$' -fuzz=FuzzParseAuthorization -fuzztime=$(FUZZTIME) ./api/
	$(GO) test -run='^$$' -fuzz=FuzzParseQuery -fuzztime=$(FUZZTIME) ./api/
	$(GO) test -run='^$$' -fuzz=FuzzHandler -fuzztime=$(FUZZTIME) ./api/
