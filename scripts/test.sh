#!/usr/bin/env bash
# test.sh runs Marquee's whole test suite: formatting, vet, staticcheck,
# every Go test under the race detector, then the browser end-to-end tests.
# It installs what is missing first (apt packages, Go, npm packages).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
bash scripts/deps.sh
use_go
bash scripts/npm.sh

echo "== gofmt" >&2
unformatted=$(gofmt -l $(git ls-files --cached --others --exclude-standard '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt: these files need formatting (run gofmt -w):" >&2
  echo "$unformatted" >&2
  exit 1
fi

if [ -f webapp/package.json ]; then
  echo "== web app unit tests (node --test)" >&2
  npm test --prefix webapp --silent
fi

echo "== go vet" >&2
go vet ./...

echo "== staticcheck" >&2
GOBIN="$PWD/bin/tools" go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
bin/tools/staticcheck ./...

echo "== go test -race (unit and integration)" >&2
pkgs=$(go list ./... | grep -v '/e2e$' || true)
# One package at a time (-p 1): the encoders of vod, downloads and cmd/api
# starved other packages' WebRTC joins past server-sdk-go's 15 s connect
# timeout on two cores, and the sum of package times (about 6 min) is
# hardly longer than running two at once.
go test -race -p 1 -timeout 20m $pkgs

if [ -d e2e ] && ls e2e/*_test.go >/dev/null 2>&1; then
  echo "== go test -race ./e2e (headless Chromium)" >&2
  mkdir -p e2e/artifacts
  go test -race -timeout 30m ./e2e/...
  echo "e2e screenshots: $PWD/e2e/artifacts" >&2
fi
