#!/usr/bin/env bash
# Single-node Apache Kafka 4.x (KRaft, combined broker+controller) on loopback,
# for integration tests and CI. Needs only Java 17+, Maven and openssl: the
# broker's classpath is assembled from Maven Central artifacts (see pom.xml next
# to this script), no distribution tarball, no Docker. Besides PLAINTEXT it has
# a SASL_SSL listener (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) with a CA, user and
# password generated for its data dir, for the secured-Kafka tests.
#
# Usage: kafka.sh fetch|start|stop|restart|status|create-topic|run-class|logs|clean
# (see usage() below or README.md). Progress goes to stderr; `start` and `env`
# print only `export RECORD_TEST_...=...` lines on stdout (the PLAINTEXT
# listener, and the SASL_SSL listener with its CA and credentials), so
#   line="$(scripts/kafka/kafka.sh start)" && eval "$line"
# works (plain `eval "$(... start)"` would hide a failed start).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SELF="$SCRIPT_DIR/$(basename "${BASH_SOURCE[0]}")"
POM="$SCRIPT_DIR/pom.xml"
BROKER_LOG4J="$SCRIPT_DIR/log4j2.xml"
TOOLS_LOG4J="$SCRIPT_DIR/tools-log4j2.xml"

KAFKA_HOME_DIR="${KAFKA_HOME_DIR:-${HOME:-/root}/.cache/recordusage-kafka}"
LIB_DIR="$KAFKA_HOME_DIR/libs"
STAMP="$LIB_DIR/.pom.sha256"
KAFKA_PORT="${KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19093}"
KAFKA_SECURE_PORT="${KAFKA_SECURE_PORT:-$((KAFKA_PORT + 2))}"
# The user that may authenticate on the SASL_SSL listener with PLAIN, SCRAM-SHA-256 and
# SCRAM-SHA-512; its password is generated when a data dir is first used.
KAFKA_SASL_USER="${KAFKA_SASL_USER:-ingest}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}"
MVN="${MVN:-mvn}"
# Per-port run state: pid file, path of the data dir in use.
RUN_DIR="$KAFKA_HOME_DIR/run/$KAFKA_PORT"
PID_FILE="$RUN_DIR/kafka.pid"
DATA_DIR_FILE="$RUN_DIR/data-dir"
AUTO_DIR_MARK=".created-by-kafka.sh"

log() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  cat >&2 <<EOF
usage: $(basename "$0") <command> [args]

  fetch                      download the broker jars into \$KAFKA_HOME_DIR/libs
                             (no-op when already there for the current pom.xml)
  start                      fetch if needed, format (first time only) and start
                             the broker in the background, wait until it answers;
                             prints: export RECORD_TEST_BROKERS=127.0.0.1:<port>
                             and the SASL_SSL listener's RECORD_TEST_SECURE_BROKERS,
                             RECORD_TEST_KAFKA_CA, RECORD_TEST_KAFKA_CLIENT_CERT/_KEY,
                             RECORD_TEST_SASL_USER, RECORD_TEST_SASL_PASSWORD
  stop                       SIGTERM, wait up to \$KAFKA_STOP_TIMEOUT s, SIGKILL
  restart                    stop + start on the same data dir (data kept)
  status                     exit 0 if the broker is running
  env                        print the export lines for a running broker
  create-topic NAME PARTS [key=value ...]
                             create a topic (replication factor 1), idempotent
  run-class CLASS [args...]  run a main class on the Kafka classpath, e.g.
                             org.apache.kafka.tools.ConsoleProducer
  logs [N]                   tail the broker log (default 100 lines)
  clean                      stop and delete the data dir if kafka.sh created it

env: KAFKA_HOME_DIR (~/.cache/recordusage-kafka) KAFKA_PORT (19092)
     KAFKA_CONTROLLER_PORT (19093) KAFKA_SECURE_PORT (KAFKA_PORT+2)
     KAFKA_SASL_USER (ingest) KAFKA_DATA_DIR (fresh temp dir)
     KAFKA_START_TIMEOUT (90) KAFKA_STOP_TIMEOUT (30)
     KAFKA_HEAP_OPTS (-Xms256m -Xmx768m) MVN (mvn) KAFKA_MVN_ARGS ()
EOF
}

# ---------------------------------------------------------------- helpers

java_bin() {
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
    echo "$JAVA_HOME/bin/java"
  elif command -v java >/dev/null 2>&1; then
    command -v java
  else
    die "java not found (Kafka 4.x needs Java 17+; set JAVA_HOME or PATH)"
  fi
}

check_java() {
  local j v major
  j="$(java_bin)"
  v="$("$j" -version 2>&1 | awk -F'"' '/version/ {print $2; exit}')"
  major="${v%%.*}"
  [[ "$major" == 1 ]] && major="$(echo "$v" | cut -d. -f2)"
  [[ "$major" =~ ^[0-9]+$ ]] || die "cannot parse java version from '$v'"
  ((major >= 17)) || die "Kafka 4.x needs Java 17+, found $v ($j)"
}

sha256_of() { sha256sum "$1" | awk '{print $1}'; }

libs_ok() {
  [[ -f "$STAMP" ]] && [[ "$(cat "$STAMP")" == "$(sha256_of "$POM")" ]] &&
    compgen -G "$LIB_DIR/kafka_2.13-*.jar" >/dev/null
}

# Run a main class from the Kafka classpath with quiet (stderr, WARN) logging.
run_class() {
  local cls="$1"; shift
  "$(java_bin)" -Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$TOOLS_LOG4J" \
    -cp "$LIB_DIR/*" "$cls" "$@" </dev/null
}

port_open() {
  # bash /dev/tcp probe, bounded so a black-holed connect cannot hang us.
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

read_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  echo "$pid"
}

# True when $1 is alive and is our broker (guards against pid reuse).
is_our_broker() {
  local pid="$1"
  [[ -r "/proc/$pid/cmdline" ]] || { kill -0 "$pid" 2>/dev/null; return; }
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka'
}

running_pid() {
  local pid
  pid="$(read_pid)" || return 1
  is_our_broker "$pid" || return 1
  echo "$pid"
}

current_data_dir() { [[ -f "$DATA_DIR_FILE" ]] && cat "$DATA_DIR_FILE"; }

broker_log() {
  local d; d="$(current_data_dir 2>/dev/null || true)"
  echo "${d:-/nonexistent}/logs/server.log"
}

show_failure_logs() {
  local d="$1"
  log "---- last 60 lines of $d/logs/server.log ----"
  tail -n 60 "$d/logs/server.log" >&2 2>/dev/null || true
  log "---- last 30 lines of $d/logs/kafka.out (stdout/stderr) ----"
  tail -n 30 "$d/logs/kafka.out" >&2 2>/dev/null || true
}

# The export lines of `start` and `env`: the PLAINTEXT listener, then the SASL_SSL listener
# with the CA that signed its certificate, a client certificate and the SASL credentials.
export_line() {
  echo "export RECORD_TEST_BROKERS=127.0.0.1:$KAFKA_PORT"
  local s; s="$(current_data_dir)/security"
  [[ -f "$s/sasl-password" ]] || return 0
  printf 'export RECORD_TEST_SECURE_BROKERS=127.0.0.1:%s\n' "$KAFKA_SECURE_PORT"
  printf 'export RECORD_TEST_KAFKA_CA=%q\n' "$s/ca.pem"
  printf 'export RECORD_TEST_KAFKA_CLIENT_CERT=%q\n' "$s/client.pem"
  printf 'export RECORD_TEST_KAFKA_CLIENT_KEY=%q\n' "$s/client.key"
  printf 'export RECORD_TEST_SASL_USER=%q\n' "$(cat "$s/sasl-user")"
  printf 'export RECORD_TEST_SASL_PASSWORD=%q\n' "$(cat "$s/sasl-password")"
}

# ---------------------------------------------------------------- security

# Generates, once per data dir, what the SASL_SSL listener needs: a CA, a broker certificate
# for 127.0.0.1 and localhost (in a PKCS12 keystore for the broker, PEM for Go clients), a
# client certificate, and the SASL user's password. They are kept across restarts because the
# SCRAM credentials are written into the metadata log when the data dir is formatted.
ensure_security() {
  local s="$1/security"
  [[ -f "$s/sasl-password" ]] && return 0
  command -v openssl >/dev/null 2>&1 || die "openssl not found (needed for the SASL_SSL listener)"
  rm -rf "$s" && mkdir -p "$s" && chmod 700 "$s"
  (
    cd "$s"
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=recordusage test CA" \
      -keyout ca.key -out ca.pem
    sign_cert broker "/CN=localhost" "subjectAltName=IP:127.0.0.1,DNS:localhost"
    sign_cert client "/CN=$KAFKA_SASL_USER" "extendedKeyUsage=clientAuth"
    openssl rand -hex 16 >keystore-password
    openssl pkcs12 -export -name broker -in broker.pem -inkey broker.key -certfile ca.pem \
      -passout "file:keystore-password" -out broker.p12
    openssl rand -hex 24 >sasl-password.tmp
    echo "$KAFKA_SASL_USER" >sasl-user
    chmod 600 ./*.key keystore-password sasl-password.tmp
    mv sasl-password.tmp sasl-password # last: its presence means the directory is complete
  ) >>"$1/logs/security.log" 2>&1 || { tail -n 20 "$1/logs/security.log" >&2; die "generating certificates failed"; }
  log "generated a CA, broker and client certificates and a SASL password in $s"
}

# A data dir formatted by an older kafka.sh has no SCRAM users: add them through the
# PLAINTEXT listener. (Like `format --add-scram`, this puts the test password on a command
# line for a moment; it is a throwaway password of a loopback test broker.)
add_scram_users() {
  local d="$1" pw m
  pw="$(cat "$d/security/sasl-password")"
  # One mechanism per request: the broker refuses two changes of one user in a request.
  for m in SCRAM-SHA-256 SCRAM-SHA-512; do
    timeout 60 bash "$SELF" run-class kafka.admin.ConfigCommand --bootstrap-server "127.0.0.1:$KAFKA_PORT" \
      --alter --entity-type users --entity-name "$KAFKA_SASL_USER" --add-config "$m=[password=$pw]" \
      >>"$d/logs/security.log" 2>&1 || die "adding the $m user failed (see $d/logs/security.log)"
  done
  touch "$d/security/scram-users"
  log "added SCRAM users to the existing data dir $d"
}

# sign_cert NAME SUBJECT EXTENSION: NAME.key and NAME.pem signed by ca.pem, in the current dir.
sign_cert() {
  openssl req -newkey rsa:2048 -nodes -subj "$2" -keyout "$1.key" -out "$1.csr"
  printf '%s\n' "$3" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
    -extfile "$1.ext" -out "$1.pem"
  rm -f "$1.csr" "$1.ext"
}

# ---------------------------------------------------------------- commands

cmd_fetch() {
  mkdir -p "$KAFKA_HOME_DIR"
  # Serialize concurrent fetches (parallel CI steps sharing a cache dir). The
  # lock fd lives only in this subshell so the broker never inherits it.
  (
    if command -v flock >/dev/null 2>&1; then
      flock 8
    fi
    do_fetch
  ) 8>"$KAFKA_HOME_DIR/.fetch.lock"
}

do_fetch() {
  if libs_ok; then
    log "libs up to date in $LIB_DIR"
    return 0
  fi
  command -v "$MVN" >/dev/null 2>&1 || die "maven ($MVN) not found"
  check_java
  local tmp mlog start
  tmp="$KAFKA_HOME_DIR/libs.tmp.$$"
  mlog="$KAFKA_HOME_DIR/fetch.log"
  rm -rf "$tmp"
  start=$SECONDS
  log "fetching Kafka jars from Maven (log: $mlog) ..."
  # shellcheck disable=SC2086  # KAFKA_MVN_ARGS is intentionally word-split
  if ! "$MVN" -q -B -ntp -Dstyle.color=never -f "$POM" ${KAFKA_MVN_ARGS:-} \
      dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$tmp" </dev/null >"$mlog" 2>&1; then
    rm -rf "$tmp"
    log "---- last 40 lines of $mlog ----"
    tail -n 40 "$mlog" >&2 || true
    die "maven dependency:copy-dependencies failed"
  fi
  compgen -G "$tmp/kafka_2.13-*.jar" >/dev/null || { rm -rf "$tmp"; die "no kafka jar after fetch"; }
  sha256_of "$POM" >"$tmp/.pom.sha256"
  rm -rf "$LIB_DIR"
  mv "$tmp" "$LIB_DIR"
  # mvn may leave target/ next to the pom; keep the source tree clean.
  rm -rf "$SCRIPT_DIR/target"
  log "fetched $(ls "$LIB_DIR"/*.jar | wc -l) jars ($(du -sh "$LIB_DIR" | cut -f1)) in $((SECONDS - start))s"
}

write_server_properties() {
  local d="$1"
  cat >"$d/server.properties" <<EOF
# Written by scripts/kafka/kafka.sh -- regenerated on every start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,SASL_SSL://127.0.0.1:$KAFKA_SECURE_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,SASL_SSL://127.0.0.1:$KAFKA_SECURE_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT
# SASL_SSL for clients that test a secured Kafka; broker and controller traffic stays plaintext.
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_ssl.ssl.keystore.type=PKCS12
listener.name.sasl_ssl.ssl.keystore.location=$d/security/broker.p12
listener.name.sasl_ssl.ssl.keystore.password=$(cat "$d/security/keystore-password")
listener.name.sasl_ssl.ssl.truststore.type=PEM
listener.name.sasl_ssl.ssl.truststore.location=$d/security/ca.pem
listener.name.sasl_ssl.ssl.client.auth=requested
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$KAFKA_SASL_USER="$(cat "$d/security/sasl-password")";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
log.dirs=$d/kraft-data
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
delete.topic.enable=true
num.network.threads=2
num.io.threads=4
log.retention.hours=24
log.segment.bytes=67108864
EOF
}

cmd_start() {
  local pid
  if pid="$(running_pid)"; then
    log "already running (pid $pid, data dir $(current_data_dir))"
    export_line
    return 0
  fi
  cmd_fetch
  check_java
  command -v timeout >/dev/null 2>&1 || die "'timeout' (coreutils) is required"

  for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$KAFKA_SECURE_PORT"; do
    if port_open "$p"; then
      die "port 127.0.0.1:$p is already in use by another process (set KAFKA_PORT / KAFKA_CONTROLLER_PORT / KAFKA_SECURE_PORT)"
    fi
  done

  local d
  if [[ -n "${KAFKA_DATA_DIR:-}" ]]; then
    d="$KAFKA_DATA_DIR"
    mkdir -p "$d"
  elif [[ "${_KAFKA_REUSE_DATA:-}" == 1 ]] && [[ -n "$(current_data_dir 2>/dev/null || true)" ]] &&
       [[ -d "$(current_data_dir)" ]]; then
    d="$(current_data_dir)"
  else
    d="$(mktemp -d "${TMPDIR:-/tmp}/recordusage-kafka.XXXXXX")"
    touch "$d/$AUTO_DIR_MARK"
  fi
  d="$(cd "$d" && pwd)"
  mkdir -p "$RUN_DIR" "$d/logs"
  echo "$d" >"$DATA_DIR_FILE"
  ensure_security "$d"
  write_server_properties "$d"
  chmod 600 "$d/server.properties" # it holds the keystore and the PLAIN user's passwords

  if [[ -f "$d/kraft-data/meta.properties" ]]; then
    log "data dir $d already formatted (cluster $(sed -n 's/^cluster.id=//p' "$d/kraft-data/meta.properties")), keeping data"
  else
    local cid out
    cid="$(run_class kafka.tools.StorageTool random-uuid 2>>"$d/logs/format.log" | tail -n 1)"
    [[ -n "$cid" ]] || { cat "$d/logs/format.log" >&2; die "could not generate a cluster id"; }
    local pw; pw="$(cat "$d/security/sasl-password")"
    if ! out="$(run_class kafka.tools.StorageTool format -t "$cid" -c "$d/server.properties" \
        --add-scram "SCRAM-SHA-256=[name=$KAFKA_SASL_USER,password=$pw]" \
        --add-scram "SCRAM-SHA-512=[name=$KAFKA_SASL_USER,password=$pw]" 2>&1)"; then
      echo "$out" >&2
      die "storage format failed"
    fi
    echo "$out" >>"$d/logs/format.log"
    touch "$d/security/scram-users"
    log "formatted $d/kraft-data (cluster $cid)"
  fi

  local t0=$SECONDS
  log "starting broker on 127.0.0.1:$KAFKA_PORT (SASL_SSL :$KAFKA_SECURE_PORT, controller :$KAFKA_CONTROLLER_PORT, data $d)"
  local setsid_cmd=()
  command -v setsid >/dev/null 2>&1 && setsid_cmd=(setsid)
  # shellcheck disable=SC2086  # KAFKA_HEAP_OPTS / KAFKA_JVM_OPTS are word-split on purpose
  nohup "${setsid_cmd[@]}" "$(java_bin)" $KAFKA_HEAP_OPTS \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dkafka.logs.dir="$d/logs" -Dlog4j2.configurationFile="$BROKER_LOG4J" \
    ${KAFKA_JVM_OPTS:-} \
    -cp "$LIB_DIR/*" kafka.Kafka "$d/server.properties" \
    </dev/null >"$d/logs/kafka.out" 2>&1 &
  pid=$!
  echo "$pid" >"$PID_FILE"

  # Wait: process alive -> port accepts -> an admin round trip succeeds.
  local deadline=$((SECONDS + KAFKA_START_TIMEOUT)) cfg="$d/tools-client.properties"
  printf 'request.timeout.ms=5000\ndefault.api.timeout.ms=8000\n' >"$cfg"
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      show_failure_logs "$d"
      rm -f "$PID_FILE"
      die "broker process $pid exited during startup"
    fi
    if ((SECONDS >= deadline)); then
      show_failure_logs "$d"
      cmd_stop >/dev/null 2>&1 || true
      die "broker not ready after ${KAFKA_START_TIMEOUT}s"
    fi
    if port_open "$KAFKA_PORT" && port_open "$KAFKA_SECURE_PORT" &&
       timeout 20 bash "$SELF" run-class org.apache.kafka.tools.TopicCommand \
         --bootstrap-server "127.0.0.1:$KAFKA_PORT" --command-config "$cfg" --list \
         >/dev/null 2>>"$d/logs/readiness.log"; then
      break
    fi
    sleep 0.5
  done
  [[ -f "$d/security/scram-users" ]] || add_scram_users "$d"
  log "broker ready (pid $pid) in $((SECONDS - t0))s; logs: $d/logs/server.log"
  export_line
}

cmd_stop() {
  local pid
  if ! pid="$(read_pid)"; then
    log "not running"
    return 0
  fi
  if ! is_our_broker "$pid"; then
    log "not running (stale pid file)"
    rm -f "$PID_FILE"
    return 0
  fi
  log "stopping broker pid $pid (SIGTERM)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + KAFKA_STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "still alive after ${KAFKA_STOP_TIMEOUT}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$PID_FILE"
  log "stopped"
}

cmd_restart() {
  cmd_stop
  _KAFKA_REUSE_DATA=1 cmd_start
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    local state="port closed"
    port_open "$KAFKA_PORT" && state="port open"
    log "running: pid $pid, 127.0.0.1:$KAFKA_PORT ($state), data dir $(current_data_dir)"
    return 0
  fi
  log "not running"
  return 1
}

cmd_env() {
  running_pid >/dev/null || die "not running"
  export_line
}

cmd_create_topic() {
  (($# >= 2)) || die "usage: create-topic NAME PARTITIONS [key=value ...]"
  local name="$1" parts="$2"; shift 2
  local args=(--bootstrap-server "127.0.0.1:$KAFKA_PORT" --create --if-not-exists
              --topic "$name" --partitions "$parts" --replication-factor 1)
  local kv
  for kv in "$@"; do args+=(--config "$kv"); done
  libs_ok || die "libs missing, run: $0 fetch"
  run_class org.apache.kafka.tools.TopicCommand "${args[@]}" >&2
}

cmd_run_class() {
  (($# >= 1)) || die "usage: run-class CLASS [args...]"
  libs_ok || die "libs missing, run: $0 fetch"
  local cls="$1"; shift
  # Not via run_class(): keep the caller's stdin (console producer).
  exec "$(java_bin)" -Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$TOOLS_LOG4J" \
    -cp "$LIB_DIR/*" "$cls" "$@"
}

cmd_logs() { tail -n "${1:-100}" "$(broker_log)"; }

cmd_clean() {
  cmd_stop
  local d; d="$(current_data_dir 2>/dev/null || true)"
  if [[ -n "$d" && -f "$d/$AUTO_DIR_MARK" ]]; then
    rm -rf "$d"
    log "removed $d"
  elif [[ -n "$d" ]]; then
    log "keeping $d (not created by kafka.sh)"
  fi
  rm -f "$DATA_DIR_FILE"
}

main() {
  local cmd="${1:-}"
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    fetch) cmd_fetch "$@" ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    restart) cmd_restart "$@" ;;
    status) cmd_status "$@" ;;
    env) cmd_env "$@" ;;
    create-topic) cmd_create_topic "$@" ;;
    run-class) cmd_run_class "$@" ;;
    logs) cmd_logs "$@" ;;
    clean) cmd_clean "$@" ;;
    -h|--help|help) usage ;;
    *) usage; exit 2 ;;
  esac
}

main "$@"
