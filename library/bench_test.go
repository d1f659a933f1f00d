package library

import (
	"context"
	"testing"
)

// BenchmarkScanIncremental2000 rescans 2,000 unchanged files (target < 2 s).
func BenchmarkScanIncremental2000(b *testing.B) {
	svc, _ := newTestService(b)
	root := b.TempDir()
	for i := range 2000 {
		writeFile(b, root, benchName(i), []byte("stub"))
	}
	lib, err := svc.CreateLibrary(context.Background(), "bench", root, KindMovies)
	if err != nil {
		b.Fatal(err)
	}
	scanNow(b, svc, lib.ID)
	b.ResetTimer()
	for b.Loop() {
		if p := scanNow(b, svc, lib.ID); p.Unchanged != 2000 {
			b.Fatalf("progress %+v", p)
		}
	}
	b.ReportMetric(2000*float64(b.N)/b.Elapsed().Seconds(), "files/s")
}

// BenchmarkScanFirst500 scans 500 new stub files into an empty library.
func BenchmarkScanFirst500(b *testing.B) {
	root := b.TempDir()
	for i := range 500 {
		writeFile(b, root, benchName(i), []byte("stub"))
	}
	for b.Loop() {
		b.StopTimer()
		svc, _ := newTestService(b)
		lib, err := svc.CreateLibrary(context.Background(), "bench", root, KindMovies)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		scanNow(b, svc, lib.ID)
	}
	b.ReportMetric(500*float64(b.N)/b.Elapsed().Seconds(), "files/s")
}

func benchName(i int) string {
	return "Bench Movie " + itoa4(i) + " (1999)/Bench Movie " + itoa4(i) + " (1999).mkv"
}

func itoa4(i int) string {
	b := []byte("0000")
	for j := 3; j >= 0; j-- {
		b[j] = byte('0' + i%10)
		i /= 10
	}
	return string(b)
}
