# One image holds every Marquee binary; docker-compose.yml picks the binary
# per service. Build: docker build -t marquee .
FROM debian:12 AS build
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl git make && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY scripts/ scripts/
RUN MARQUEE_DEPS=build bash scripts/deps.sh
COPY . .
RUN bash scripts/npm.sh webapp && . scripts/lib.sh && use_go && \
    CGO_ENABLED=1 go build -trimpath -o /out/ ./cmd/...

FROM debian:12-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
      libavcodec59 libavformat59 libavfilter8 libavdevice59 libswscale6 libswresample4 libavutil57 libpostproc56 \
    && rm -rf /var/lib/apt/lists/* && useradd --system --home /var/lib/marquee marquee
COPY --from=build /out/ /usr/local/bin/
USER marquee
WORKDIR /var/lib/marquee
