#!/usr/bin/env bash
# The quick start (`make run`): the whole pipeline on one machine with nothing but Go.
#
#   ingest  with the embedded in-memory Kafka broker on 127.0.0.1:9092 (metrics on :9100)
#   query   on 127.0.0.1:8080 with a freshly generated operator token
#   loadgen backfills the last 24 hours of a realistic workload, then keeps feeding it live
#
# Ctrl-C stops everything cleanly. Everything is in memory: nothing survives a stop.
set -euo pipefail
cd "$(dirname "$0")/.."

QUERY_ADDR=${QUERY_ADDR:-127.0.0.1:8080}
INGEST_HTTP=${INGEST_HTTP:-127.0.0.1:9100}
PROJECT=${PROJECT:-proj-0000}
work=$(mktemp -d)
pids=()

log() { printf 'run: %s\n' "$*" >&2; }

stop_all() {
	trap - INT TERM EXIT
	log "stopping…"
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do # reverse order: loadgen, query, ingest
		kill -TERM "${pids[$i]}" 2>/dev/null || true
		wait "${pids[$i]}" 2>/dev/null || true
	done
	rm -rf "$work"
	log "stopped."
}
trap stop_all INT TERM EXIT

for addr in 127.0.0.1:9092 "$INGEST_HTTP" "$QUERY_ADDR"; do
	if (exec 3<>"/dev/tcp/${addr%:*}/${addr##*:}") 2>/dev/null; then
		log "$addr is already in use: stop what listens there (or set QUERY_ADDR / INGEST_HTTP)"
		exit 1
	fi
done

log "building…"
mkdir -p bin
go build -o bin/ ./cmd/ingest ./cmd/query ./bench/cmd/loadgen

wait_http() { # url seconds
	for _ in $(seq 1 $(($2 * 10))); do
		if curl -fsS -o /dev/null "$1" 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	log "timed out waiting for $1; logs are in $work"
	return 1
}

log "starting ingest (embedded in-memory Kafka broker on 127.0.0.1:9092)…"
bin/ingest --http "$INGEST_HTTP" --log-level warn 2>"$work/ingest.log" &
pids+=($!)
wait_http "http://$INGEST_HTTP/readyz" 60

token=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
printf '{"tokens": [{"token": "%s", "project_id": "*"}]}\n' "$token" >"$work/credentials.json"
chmod 600 "$work/credentials.json"

log "starting query on $QUERY_ADDR…"
bin/query --http "$QUERY_ADDR" --credentials "$work/credentials.json" --log-level warn 2>"$work/query.log" &
pids+=($!)
wait_http "http://$QUERY_ADDR/healthz" 30

log "backfilling the last 24 hours, then feeding live events…"
LOADGEN_ARGS=${LOADGEN_ARGS:---mode backfill --from 24h --then-live --rate 100000 --seed 1}
# shellcheck disable=SC2086 # word splitting of the arguments is intended
bin/loadgen $LOADGEN_ARGS &
pids+=($!)

url="http://$QUERY_ADDR/v2/$PROJECT/stats/record"
for _ in $(seq 1 900); do
	if curl -fsS -H "X-Auth-Token: $token" "$url" 2>/dev/null | grep -q '"concurrent_count":[1-9]'; then
		break
	fi
	sleep 0.2
done

cat >&2 <<MSG

  recordusage is running (all in memory; Ctrl-C stops it).

  Operator token (every project, this run only):
    $token

  The last 24 hours of $PROJECT:
    curl -s -H 'X-Auth-Token: $token' '$url'

  Usage chart (enter the token and a project):
    http://$QUERY_ADDR/chart/

  Ingest metrics: http://$INGEST_HTTP/metrics    Logs: $work/

MSG
wait "${pids[0]}"
