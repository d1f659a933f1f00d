#!/usr/bin/env bash
# run.sh runs the whole Marquee platform on this machine with embedded
# defaults: SQLite under ./data, in-memory rooms, a generated sample library
# and the development keys on 127.0.0.1. It prints the web app's URL and
# stops every process it started on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
bash scripts/deps.sh
use_go
bash scripts/npm.sh

echo "run: building" >&2
mkdir -p bin data
go build -o bin/ ./cmd/api ./cmd/sfu ./cmd/ingest
bash scripts/sample-library.sh data/library

pids=()
stop() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait || true
  echo "run: stopped" >&2
}
trap stop INT TERM EXIT

lib="$PWD/data/library"
bin/sfu --dev & pids+=($!)
bin/ingest --dev --media.roots "$lib" & pids+=($!)
bin/api --dev --data_dir "$PWD/data" --library.roots "$lib" --library.scan_on_start & pids+=($!)

for url in http://127.0.0.1:7880/healthz http://127.0.0.1:8090/healthz http://127.0.0.1:8080/healthz; do
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$url" 2>/dev/null && break
    sleep 0.3
  done
  curl -fsS -o /dev/null "$url" || { echo "run: $url did not come up; see the logs above" >&2; exit 1; }
done
echo
echo "  Marquee is running: http://127.0.0.1:8080/"
echo "  (sign in with the one-time admin link printed above on first start; Ctrl-C stops everything)"
echo
# Stop everything as soon as any one service exits.
wait -n
echo "run: a service exited; stopping the others" >&2
exit 1
