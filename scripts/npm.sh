#!/usr/bin/env bash
# npm.sh installs the npm packages of Marquee's front-end folders from their
# lock files, and builds the web app. It reinstalls only when
# package-lock.json changed since the last install.
#
#   scripts/npm.sh            webapp and e2e (the tests need both)
#   scripts/npm.sh webapp     the web app only (what run.sh needs)
set -euo pipefail
cd "$(dirname "$0")/.."
dirs=("$@")
[ "${#dirs[@]}" -gt 0 ] || dirs=(webapp e2e)
for d in "${dirs[@]}"; do
  case "$d" in
    webapp|e2e) ;;
    *) echo "npm.sh: unknown folder $d (want webapp or e2e)" >&2; exit 2 ;;
  esac
  [ -f "$d/package.json" ] || continue
  stamp="$d/node_modules/.marquee-lock"
  if [ ! -f "$stamp" ] || ! cmp -s "$d/package-lock.json" "$stamp"; then
    echo "npm: installing $d packages" >&2
    npm ci --prefix "$d" --no-audit --no-fund --loglevel=error
    cp "$d/package-lock.json" "$stamp"
  fi
done
if [ -f webapp/package.json ] && [[ " ${dirs[*]} " == *" webapp "* ]]; then
  echo "npm: building the web app" >&2
  npm run --prefix webapp --silent build
fi
