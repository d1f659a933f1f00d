#!/usr/bin/env bash
# deps.sh installs what Marquee and its tests need on Debian 12.
# It is idempotent: packages already present are skipped, and apt is only
# touched when something is missing. It uses sudo when not run as root.
set -euo pipefail
# MARQUEE_DEPS=build installs only what compiling needs (container images);
# the default, all, adds what running the platform and its tests needs.
profile=${MARQUEE_DEPS:-all}

pkgs=(
  ffmpeg                 # the CLI: sample library and test media
  libavcodec-dev libavformat-dev libavutil-dev libavfilter-dev
  libavdevice-dev libswscale-dev libswresample-dev libpostproc-dev
  pkg-config gcc make
  ca-certificates curl git
  nodejs npm
)
if [ "$profile" != build ]; then
  pkgs+=(
    chromium chromium-driver  # browser end-to-end tests
    redis-server              # multi-node coordination and its tests
    fonts-dejavu-core         # drawtext font for the sample film clock
    sqlite3                   # inspecting ./data/marquee.db by hand
    iproute2                  # ip netns: the loopback-only end-to-end test
    nftables                  # scripts/audioloss.sh: random loss between network namespaces
    nginx-light               # side-by-side baseline in make bench-vod and bench-downloads
    bind9 dnsutils            # CDN node DNS names (RFC 2136 updates) and dig in their tests
  )
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# node and npm may come from elsewhere (nvm, a tarball): accept those.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do
    case "$p" in nodejs|npm) ;; *) filtered+=("$p") ;; esac
  done
  missing=("${filtered[@]}")
fi

if [ "${#missing[@]}" -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "deps: system packages present" >&2
fi

# Go: Debian 12 ships 1.19, too old for go.mod. When no new enough Go is on
# PATH, use Debian's to fetch the official toolchain through the Go module
# proxy (module golang.org/toolchain, the same one `GOTOOLCHAIN=auto` uses).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
use_go
if ! go_ok; then
  if ! command -v go >/dev/null && [ ! -x /usr/lib/go-1.19/bin/go ]; then
    "${sudo_cmd[@]}" apt-get update -qq
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends golang-go >/dev/null
  fi
  boot=$(command -v go || echo /usr/lib/go-1.19/bin/go)
  echo "deps: fetching Go $GO_TOOLCHAIN_VERSION through the module proxy into $MARQUEE_GO_DIR" >&2
  tmp=$(mktemp -d)
  dir=$(GOPATH="$tmp" GOFLAGS=-modcacherw GO111MODULE=on "$boot" mod download -json \
        "golang.org/toolchain@v0.0.1-$GO_TOOLCHAIN_VERSION.linux-$(dpkg --print-architecture)" |
        sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  [ -n "$dir" ] || { echo "deps: could not fetch the Go toolchain; install Go $GO_WANT and put it on PATH" >&2; exit 1; }
  mkdir -p "$(dirname "$MARQUEE_GO_DIR")"
  rm -rf "$MARQUEE_GO_DIR"
  cp -r "$dir" "$MARQUEE_GO_DIR"
  chmod -R u+w "$MARQUEE_GO_DIR"
  chmod +x "$MARQUEE_GO_DIR"/bin/* "$MARQUEE_GO_DIR"/pkg/tool/*/*
  rm -rf "$tmp"
  use_go
  go_ok || { echo "deps: Go $GO_WANT still not usable after install" >&2; exit 1; }
fi
