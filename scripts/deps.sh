#!/usr/bin/env bash
# deps.sh installs what Marquee and its tests need on Debian 12.
# It is idempotent: packages already present are skipped, and apt is only
# touched when something is missing. It uses sudo when not run as root.
set -euo pipefail

pkgs=(
  ffmpeg                 # the CLI: sample library and test media
  libavcodec-dev libavformat-dev libavutil-dev libavfilter-dev
  libavdevice-dev libswscale-dev libswresample-dev libpostproc-dev
  pkg-config gcc make
  chromium chromium-driver
  redis-server
  fonts-dejavu-core      # drawtext font for the sample film clock
  sqlite3
  ca-certificates
  nodejs npm
)

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

if ! command -v go >/dev/null; then
  echo "deps: Go 1.26 is required; install it from your distribution or go.dev and put it on PATH" >&2
  exit 1
fi
