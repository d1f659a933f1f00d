#!/usr/bin/env bash
# audioloss.sh measures audio loss at a viewer behind a lossy link: the
# SFU and a publisher of numbered Opus frames run in one network
# namespace, a pion viewer in another, joined by a veth pair on a private
# /30 that exists only inside the two namespaces. nftables in the
# viewer's namespace drops LOSS % of the SFU's UDP at random. The viewer
# runs twice, with plain Opus and with RED (RFC 2198), and prints the
# frames it got, rebuilt and lost. With CHROMIUM=1 it then runs
# e2e/audioloss_test.go in a third, loopback-only namespace: Chromium
# publishes a tone, a Chromium listener behind LOSS % random drop of the
# SFU's audio reports its concealed samples (run scripts/npm.sh first; for
# the figure without RED, run it from a checkout before RED).
# Needs root, iproute2 and nftables.
#
#   sudo LOSS=10 SECS=30 CHROMIUM=1 scripts/audioloss.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh && use_go
LOSS=${LOSS:-10}
SECS=${SECS:-30}
ns_sfu=mq-al-sfu
ns_view=mq-al-view
ns_chrome=mq-al-chrome
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ip netns del "$ns_sfu" 2>/dev/null || true
  ip netns del "$ns_view" 2>/dev/null || true
  ip netns del "$ns_chrome" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/sfu" ./cmd/sfu
go test -c -tags audioloss -o "$tmp/rooms.test" ./rooms

ip netns add "$ns_sfu"
ip netns add "$ns_view"
ip link add mqal0 type veth peer name mqal1
ip link set mqal0 netns "$ns_sfu"
ip link set mqal1 netns "$ns_view"
ip -n "$ns_sfu" addr add 10.77.0.1/30 dev mqal0
ip -n "$ns_view" addr add 10.77.0.2/30 dev mqal1
for ns in "$ns_sfu" "$ns_view"; do
  ip -n "$ns" link set lo up
done
ip -n "$ns_sfu" link set mqal0 up
ip -n "$ns_view" link set mqal1 up
ip netns exec "$ns_view" nft -f - <<NFT
table inet audioloss {
  chain in {
    type filter hook input priority 0;
    ip saddr 10.77.0.1 udp sport 7882 numgen random mod 100 < $LOSS drop
  }
}
NFT

ip netns exec "$ns_sfu" "$tmp/sfu" --dev --listen 10.77.0.1:7880 --sfu.rtc.bind_ip 10.77.0.1 \
  --sfu.rtc.udp_port 7882 --sfu.keys devkey=secret-for-tests --log.level warn &
pids+=($!)
for _ in $(seq 50); do
  ip netns exec "$ns_view" bash -c 'exec 3<>/dev/tcp/10.77.0.1/7880' 2>/dev/null && break
  sleep 0.2
done

export AUDIOLOSS_URL=ws://10.77.0.1:7880 AUDIOLOSS_SECONDS=$SECS
for red in 0 1; do
  ip netns exec "$ns_sfu" env AUDIOLOSS_SECONDS=$((SECS + 10)) "$tmp/rooms.test" -test.run '^TestAudioLossPublish$' >/dev/null 2>&1 &
  pub=$!
  pids+=("$pub")
  sleep 2
  ip netns exec "$ns_view" env AUDIOLOSS_RED=$red "$tmp/rooms.test" -test.run '^TestAudioLossView$' -test.v 2>&1 |
    grep -o 'AUDIOLOSS .*' || echo "viewer red=$red failed" >&2
  kill "$pub" 2>/dev/null || true
  wait "$pub" 2>/dev/null || true
done
echo "loss=$LOSS% on the SFU->viewer UDP, $SECS s per run"

if [ "${CHROMIUM:-0}" = 1 ]; then
  go test -c -tags audioloss -o "$tmp/e2e.test" ./e2e
  ip netns add "$ns_chrome"
  ip -n "$ns_chrome" link set lo up
  (cd e2e && flock /tmp/e2e.lock ip netns exec "$ns_chrome" env LOSS="$LOSS" SECS="$SECS" \
    "$tmp/e2e.test" -test.run '^TestAudioLossChromium$' -test.v 2>&1 | grep -o 'AUDIOLOSS .*')
fi
