# The project's commands. `make test` is what CI runs (see .ci/run).
GO ?= go

.PHONY: test check vet fmt bench fuzz

## test: formatting, vet, and every test with the race detector
test: check
	$(GO) test -race -count=1 ./...

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

## fuzz: each fuzz target for FUZZTIME (default 30s)
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzDecode -fuzztime=$(FUZZTIME) ./event/
	$(GO) test -run='^$$' -fuzz=FuzzParseTime -fuzztime=$(FUZZTIME) ./event/
	$(GO) test -run='^$$' -fuzz=FuzzRestore -fuzztime=$(FUZZTIME) ./engine/
