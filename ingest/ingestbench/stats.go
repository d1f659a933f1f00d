package ingestbench

import (
	"fmt"
	"slices"
	"time"
)

func median[T int64 | float64 | time.Duration](xs []T) T { return percentile(xs, 50) }

func percentile[T int64 | float64 | time.Duration](xs []T, p int) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[(len(s)-1)*p/100]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }
