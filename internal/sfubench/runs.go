package sfubench

import (
	"context"
	"fmt"
	"io"
	"slices"
)

// runN measures n viewers o.runs times (alternating with the baseline
// binary when o.compare is set, so both see the same machine load) and
// prints the median run of each, and their ratio.
func runN(ctx context.Context, o options, bin, dir string, n int, out io.Writer) error {
	bins := []string{bin}
	if o.compare != "" {
		bins = append(bins, o.compare)
	}
	results := make([][]result, len(bins))
	for range o.runs {
		for i, b := range bins {
			r, err := runOnce(ctx, o, b, dir, n)
			if err != nil {
				return err
			}
			results[i] = append(results[i], r)
		}
	}
	meds := make([]result, len(bins))
	for i, rs := range results {
		meds[i] = median(rs)
		lo, hi := spread(rs)
		label := ""
		if o.compare != "" {
			label = [...]string{"test ", "base "}[i]
		}
		fmt.Fprintf(out, "%s%s range=%.2f-%.2fus\n", label, meds[i], lo, hi)
	}
	if o.compare != "" && meds[1].usPerPacket > 0 {
		fmt.Fprintf(out, "viewers=%d cpu_per_pkt test/base = %.2f\n", n, meds[0].usPerPacket/meds[1].usPerPacket)
	}
	return nil
}

// median returns the run with the median CPU per packet (the lower of the
// two middle runs for an even count).
func median(rs []result) result {
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b result) int {
		switch {
		case a.usPerPacket < b.usPerPacket:
			return -1
		case a.usPerPacket > b.usPerPacket:
			return 1
		}
		return 0
	})
	return s[(len(s)-1)/2]
}

// spread returns the least and greatest CPU per packet of rs.
func spread(rs []result) (lo, hi float64) {
	lo, hi = rs[0].usPerPacket, rs[0].usPerPacket
	for _, r := range rs[1:] {
		lo, hi = min(lo, r.usPerPacket), max(hi, r.usPerPacket)
	}
	return lo, hi
}
