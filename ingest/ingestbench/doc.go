// Package ingestbench measures the ingest: the pipeline alone (real-time
// factor, CPU share per party) and through an in-process SFU to a Go
// viewer that decodes with libav (glass-to-glass latency, seek- and
// join-to-first-frame). cmd/ingest's bench sub-command prints its figures.
package ingestbench
