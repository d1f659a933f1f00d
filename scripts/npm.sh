#!/usr/bin/env bash
# npm.sh installs the npm packages of Marquee's front-end folders (webapp,
# e2e) from their lock files, and builds the web app. It reinstalls only
# when package-lock.json changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."
for d in webapp e2e; do
  [ -f "$d/package.json" ] || continue
  stamp="$d/node_modules/.marquee-lock"
  if [ ! -f "$stamp" ] || ! cmp -s "$d/package-lock.json" "$stamp"; then
    echo "npm: installing $d packages" >&2
    npm ci --prefix "$d" --no-audit --no-fund --loglevel=error
    cp "$d/package-lock.json" "$stamp"
  fi
done
if [ -f webapp/package.json ]; then
  echo "npm: building the web app" >&2
  npm run --prefix webapp --silent build
fi
