#!/usr/bin/env bash
# The side-by-side benchmark of bench/peers (make peers): installs DuckDB in a venv under
# ~/.cache/recordusage-bench (once), then runs bench/cmd/peers against the Kafka broker of
# RECORD_TEST_BROKERS (start one with scripts/kafka/kafka.sh start). Extra arguments go to the
# command (e.g. --runs 5 --timeline). Set PEERS_FRESHNESS=1 to also run bench/cmd/freshness.
# `peers.sh --install-only` only installs DuckDB (CI does this, for bench/peers' tests).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CACHE="${RECORDUSAGE_BENCH_CACHE:-${HOME:-/root}/.cache/recordusage-bench}"
VENV="$CACHE/venv"
PY="$VENV/bin/python"
if ! "$PY" -c 'import duckdb' 2>/dev/null; then
  command -v python3 >/dev/null 2>&1 || { echo "peers.sh: python3 not found" >&2; exit 1; }
  echo "peers.sh: installing duckdb in $VENV" >&2
  mkdir -p "$CACHE"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check duckdb
fi
if [[ "${1:-}" == --install-only ]]; then
  "$PY" -c 'import duckdb; print("peers.sh: duckdb", duckdb.__version__, "in", "'"$VENV"'")' >&2
  exit 0
fi
: "${RECORD_TEST_BROKERS:?set RECORD_TEST_BROKERS (line=\"\$(bash scripts/kafka/kafka.sh start)\" && eval \"\$line\")}"
go run ./bench/cmd/peers --brokers "$RECORD_TEST_BROKERS" --python "$PY" "$@"
if [[ "${PEERS_FRESHNESS:-}" == 1 ]]; then
  go run ./bench/cmd/freshness --brokers "$RECORD_TEST_BROKERS"
fi
