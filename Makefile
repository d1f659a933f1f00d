# Marquee's commands. `make run` and `make test` are the two in the README;
# both install what they need first (apt packages, Go, npm packages).
.PHONY: run test deps build lint bench-sfu bench-ingest bench-scan bench-cdn bench-vod bench-downloads clean

run:
	@bash scripts/run.sh

test:
	@bash scripts/test.sh

deps:
	@bash scripts/deps.sh

build: deps
	@bash scripts/npm.sh
	@. scripts/lib.sh && use_go && go build -o bin/ ./cmd/...

bench-sfu: build
	@. scripts/lib.sh && use_go && go run ./cmd/sfu bench

bench-ingest: build
	@. scripts/lib.sh && use_go && go run ./cmd/ingest bench

bench-scan: build
	@. scripts/lib.sh && use_go && go run ./cmd/api bench

bench-cdn: build
	@. scripts/lib.sh && use_go && go run ./cmd/cdn bench
	@# Replicating a 1 GiB object peer node to node vs curl over the same link (issue #16).
	@. scripts/lib.sh && use_go && go test -run '^$$' -bench Replicate -benchtime 1x ./cdn/

# bench-vod: for a generated 10 s 1080p source, per rendition the encode's
# real-time factor and time to the first segment; the cold start over HTTP
# (first playlist request to the first segment's last byte, remux and
# 720p, medians); cached segments to 50 viewers, Marquee beside nginx.
bench-vod: deps
	@. scripts/lib.sh && use_go && go test -run '^$$' -bench 'Rendition|ColdStart|ServeCached' -benchtime 1x ./vod/

# bench-downloads: a ready 1 GiB file over loopback from Marquee's files
# handler and from Debian's nginx, alternating runs (ratio, target >= 0.8x),
# and the time to prepare the 720p download of a 2-minute film from a cold
# and a warm segment cache.
bench-downloads: deps
	@. scripts/lib.sh && use_go && go test -run '^$$' -bench Downloads -benchtime 1x -timeout 30m ./downloads/

clean:
	rm -rf bin e2e/artifacts
