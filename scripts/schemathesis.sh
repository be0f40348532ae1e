#!/usr/bin/env bash
# Runs schemathesis (property-based API testing from the OpenAPI document) against a real
# cmd/query process: every generated request must get a documented status, content type,
# headers and a body matching docs/openapi.yaml, and never a 5xx.
#
#   bash scripts/schemathesis.sh
#
# Environment:
#   RECORD_TEST_BROKERS   Kafka brokers to use (comma-separated). When unset, cmd/ingest is
#                         started without --brokers, which runs its in-memory broker on
#                         127.0.0.1:9092 (that port must be free) and creates the topics.
#   SCHEMATHESIS_VENV     virtualenv to install schemathesis into
#                         (default: ${XDG_CACHE_HOME:-$HOME/.cache}/recordusage/schemathesis-venv)
#   SCHEMATHESIS_VERSION  pip requirement (default: schemathesis==4.32.5)
#   MAX_EXAMPLES          test cases per operation and phase (default 1000)
#   MAX_TIME              if set, a time budget in seconds: schemathesis then keeps fuzzing
#                         until it is spent (without it, the run stops after MAX_EXAMPLES);
#                         the whole run is killed after 15 minutes in any case
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
venv=${SCHEMATHESIS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/recordusage/schemathesis-venv}
version=${SCHEMATHESIS_VERSION:-schemathesis==4.32.5}
max_examples=${MAX_EXAMPLES:-1000}
time_budget=()
if [ -n "${MAX_TIME:-}" ]; then
	time_budget=(--max-time "$MAX_TIME")
fi

work=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT

log() { echo "schemathesis.sh: $*" >&2; }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# 1. schemathesis in its own virtualenv.
if [ ! -x "$venv/bin/schemathesis" ] || ! "$venv/bin/pip" show -q schemathesis >/dev/null 2>&1 ||
	[ "$("$venv/bin/schemathesis" --version 2>/dev/null | awk '{print $NF}')" != "${version#schemathesis==}" ]; then
	log "installing $version into $venv"
	python3 -m venv "$venv"
	"$venv/bin/pip" install --quiet --upgrade pip
	"$venv/bin/pip" install --quiet "$version"
fi
"$venv/bin/schemathesis" --version

# 2. Build the commands.
go build -o "$work/query" ./cmd/query
go build -o "$work/ingest" ./cmd/ingest

# 3. A broker with the results topic: ingest creates the topics (on the given broker, or on its
#    own in-memory one).
brokers=${RECORD_TEST_BROKERS:-}
ingest_http=127.0.0.1:$(free_port)
if [ -z "$brokers" ]; then
	if python3 -c 'import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(("127.0.0.1",9092))==0)'; then :; else
		log "127.0.0.1:9092 is busy: free it or set RECORD_TEST_BROKERS"
		exit 1
	fi
	log "starting ingest with its in-memory broker on 127.0.0.1:9092"
	"$work/ingest" --http "$ingest_http" --log-level warn >"$work/ingest.log" 2>&1 &
	brokers=127.0.0.1:9092
else
	log "starting ingest on $brokers (it creates the topics)"
	"$work/ingest" --brokers "$brokers" --http "$ingest_http" --log-level warn >"$work/ingest.log" 2>&1 &
fi
pids+=($!)
for _ in $(seq 1 600); do
	if curl -fsS "http://$ingest_http/readyz" >/dev/null 2>&1; then break; fi
	sleep 0.1
done

# 4. The query service, without authentication (schemathesis tests the API's shape).
port=$(free_port)
base=http://127.0.0.1:$port
"$work/query" --brokers "$brokers" --http "127.0.0.1:$port" --insecure-no-auth --log-level warn \
	>"$work/query.log" 2>&1 &
pids+=($!)
log "waiting for $base/readyz"
ready=
for _ in $(seq 1 600); do
	if curl -fsS "$base/readyz" >/dev/null 2>&1; then
		ready=1
		break
	fi
	if ! kill -0 "${pids[-1]}" 2>/dev/null; then
		break
	fi
	sleep 0.1
done
if [ -z "$ready" ]; then
	log "query did not become ready within 60s"
	cat "$work/query.log" >&2
	[ -f "$work/ingest.log" ] && cat "$work/ingest.log" >&2
	exit 1
fi

# 5. The run: positive and negative data, every phase that applies to one GET operation.
status=0
cd "$work" # schemathesis writes its state under ./.schemathesis: keep it out of the repository
timeout 900 "$venv/bin/schemathesis" run "$root/docs/openapi.yaml" \
	--url "$base" \
	--checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,unsupported_method,negative_data_rejection \
	--max-examples "$max_examples" \
	"${time_budget[@]}" \
	--generation-deterministic \
	--request-timeout 5 \
	--no-color || status=$?
if [ "$status" -ne 0 ]; then
	log "schemathesis failed (exit $status); query log:"
	tail -n 50 "$work/query.log" >&2
fi
exit "$status"
