# lib.sh is sourced by Marquee's scripts. It puts a Go of at least the
# version go.mod needs on PATH: the system's when new enough, else the one
# scripts/deps.sh installed under $MARQUEE_GO_DIR.
GO_WANT=1.26
GO_TOOLCHAIN_VERSION=go1.26.8
MARQUEE_GO_DIR=${MARQUEE_GO_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/marquee/$GO_TOOLCHAIN_VERSION}

# go_ok prints nothing and succeeds when `go` on PATH is new enough.
go_ok() {
  command -v go >/dev/null 2>&1 || return 1
  local v
  v=$(go env GOVERSION 2>/dev/null | sed 's/^go//') || return 1
  [ "$(printf '%s\n%s\n' "$GO_WANT" "$v" | sort -V | head -n1)" = "$GO_WANT" ]
}

use_go() {
  if ! go_ok && [ -x "$MARQUEE_GO_DIR/bin/go" ]; then
    export PATH="$MARQUEE_GO_DIR/bin:$PATH"
  fi
  for d in /usr/local/go/bin "$HOME/go/bin" "$(go env GOPATH 2>/dev/null)/bin"; do
    case ":$PATH:" in *":$d:"*) ;; *) [ -d "$d" ] && PATH="$PATH:$d" ;; esac
  done
  export PATH
  # Never switch toolchains behind the user's back: go.mod's version is met.
  export GOTOOLCHAIN=local
}
