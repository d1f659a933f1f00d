#!/usr/bin/env bash
# run.sh runs the whole Marquee platform on this machine with embedded
# defaults: SQLite under ./data, in-memory rooms, a generated sample library
# and the development keys on 127.0.0.1. Each service logs to
# ./data/logs/<service>.log; the terminal gets the web app's URL and, on
# first start, the admin's one-time sign-in link, last and framed. Ctrl-C
# stops every process it started, each draining once.
# MARQUEE_RUN_DATA names another data folder (default ./data).
set -euo pipefail
cd "$(dirname "$0")/.."
data=${MARQUEE_RUN_DATA:-data}
. scripts/lib.sh
bash scripts/deps.sh
use_go
bash scripts/npm.sh webapp

echo "run: building" >&2
mkdir -p bin "$data/logs"
go build -o bin/ ./cmd/api ./cmd/sfu ./cmd/ingest
bash scripts/sample-library.sh "$data/library"

pids=()
names=()
# The API prints the first-start link on stdout: keep it in a private file
# (mktemp makes it 0600) until it is shown, never in a log.
api_out=$(mktemp)

# stop_services stops the services in the reverse order of their start
# (api, ingest, sfu), each drained before the next: the ingest leaves its
# rooms before the SFU goes.
stop_services() {
  local j
  for ((j = ${#pids[@]} - 1; j >= 0; j--)); do
    kill -TERM "${pids[$j]}" 2>/dev/null || true
    wait "${pids[$j]}" 2>/dev/null || true
  done
  rm -f "$api_out"
}
# One line on a clean stop. The services run in their own process groups
# (set -m below), so the terminal's Ctrl-C reaches only this script, and
# each service gets exactly one SIGTERM: a second signal would make it skip
# draining.
on_signal() {
  trap - INT TERM HUP EXIT
  stop_services
  echo "run: stopped" >&2
  exit 0
}
trap on_signal INT TERM HUP
trap 'stop_services' EXIT

# start NAME CMD...: run a service in the background, logging to
# data/logs/NAME.log in text format.
start() {
  local name=$1
  shift
  echo "---- run.sh started $name at $(date -u +%FT%TZ)" >>"$data/logs/$name.log"
  set -m
  "$@" --log.format text </dev/null >>"$data/logs/$name.log" 2>&1 &
  set +m
  pids+=($!)
  names+=("$name")
}

data=$(cd "$data" && pwd)
lib="$data/library"
start sfu bin/sfu --dev
start ingest bin/ingest --dev --media.roots "$lib"
echo "---- run.sh started api at $(date -u +%FT%TZ)" >>"$data/logs/api.log"
set -m
bin/api --dev --data_dir "$data" --library.roots "$lib" --library.scan_on_start --log.format text \
  </dev/null >"$api_out" 2>>"$data/logs/api.log" &
set +m
pids+=($!)
names+=(api)

# why NAME: print the end of a service's log from this run.
why() {
  echo "run: the end of $data/logs/$1.log:" >&2
  awk '/^---- run.sh started/ { n = 0 } { line[n++] = $0 } END { for (i = (n > 20 ? n - 20 : 0); i < n; i++) print "  " line[i] }' \
    "$data/logs/$1.log" >&2
}

i=0
for url in http://127.0.0.1:7880/healthz http://127.0.0.1:8090/healthz http://127.0.0.1:8080/healthz; do
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$url" 2>/dev/null && break
    sleep 0.3
  done
  if ! curl -fsS -o /dev/null "$url" 2>/dev/null; then
    echo "run: ${names[$i]} did not come up ($url)" >&2
    why "${names[$i]}"
    exit 1
  fi
  i=$((i + 1))
done

# The API wrote its first-start link before it began to listen.
link=$(grep -o 'https\?://[^ ]*/login/[^ ]*' "$api_out" | head -n 1 || true)
rm -f "$api_out"

rule='================================================================'
echo
echo "$rule"
echo "  Marquee is running: http://127.0.0.1:8080/"
echo
if [ -n "$link" ]; then
  echo "  Sign in as admin with this one-time link:"
  echo "    $link"
else
  echo "  Sign in with your password, or get a one-time link with:"
  echo "    bin/api login-link --user admin -- --data_dir $data"
fi
echo
echo "  Logs: $data/logs/sfu.log, ingest.log, api.log"
echo "  Ctrl-C stops everything."
echo "$rule"
echo

# Stop everything as soon as any one service exits on its own.
set +e
wait -n -p exited
code=$?
set -e
for j in "${!pids[@]}"; do
  if [ "${pids[$j]}" = "${exited:-}" ]; then
    echo "run: ${names[$j]} exited (status $code); stopping the others" >&2
    why "${names[$j]}"
  fi
done
exit 1
