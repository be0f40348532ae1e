// Package bench holds the end-to-end benchmarks that need a Kafka broker (RECORD_TEST_BROKERS;
// start one with scripts/kafka/kafka.sh) and, in cmd/loadgen, the load generator. The go test
// benchmarks of single packages live beside their code (engine, event, window, api).
package bench
