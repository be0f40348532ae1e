// Package peers is the side-by-side benchmark of issue 10: the same table (CONTRACT.md §3,
// per project and per project and domain, per hour) from the same raw events, computed by
// DuckDB (load + query, through python and duckdb_peer.py) and by our pipeline (ingest started
// on the filled topic until the store that the query API reads holds every hour exactly), each
// answer checked hour by hour against the other. Run is the whole benchmark for a Config; the
// command bench/cmd/peers is a thin layer of flags over it, and scripts/peers.sh (make peers)
// installs DuckDB and runs the command. See docs/benchmarks.md for the figures.
package peers
