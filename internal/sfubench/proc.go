package sfubench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// ErrBadProcStat means /proc/<pid>/stat did not have the expected fields.
var ErrBadProcStat = errors.New("sfubench: unexpected /proc stat format")

// clockTicks is USER_HZ, the unit of utime/stime in /proc/<pid>/stat
// (proc(5)); 100 on every Linux architecture Go supports.
const clockTicks = 100

// procSample is one reading of the SFU process.
type procSample struct {
	cpu time.Duration // utime + stime
	rss int64         // resident bytes
}

// readProc reads utime, stime and rss of pid (proc(5), fields 14, 15, 24).
func readProc(pid int) (procSample, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procSample{}, fmt.Errorf("sfubench: read stat: %w", err)
	}
	return parseProcStat(string(b), os.Getpagesize())
}

// parseProcStat parses a /proc/<pid>/stat line. The command name (field
// 2) may hold spaces and parentheses, so fields are counted after its
// last ')'.
func parseProcStat(s string, pageSize int) (procSample, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procSample{}, ErrBadProcStat
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); field n is f[n-3].
	if len(f) < 22 {
		return procSample{}, ErrBadProcStat
	}
	ut, err1 := strconv.ParseInt(f[14-3], 10, 64)
	st, err2 := strconv.ParseInt(f[15-3], 10, 64)
	rss, err3 := strconv.ParseInt(f[24-3], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return procSample{}, fmt.Errorf("%w: %w", ErrBadProcStat, err)
	}
	return procSample{
		cpu: time.Duration(ut+st) * time.Second / clockTicks,
		rss: rss * int64(pageSize),
	}, nil
}

// scrapeCounter sums every sample of the named counter on a Prometheus
// /metrics page.
func scrapeCounter(ctx context.Context, url, name string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("sfubench: scrape: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("sfubench: scrape: %s", resp.Status)
	}
	return sumCounter(resp.Body, name)
}

// sumCounter adds up the samples of one metric in the text exposition
// format (`name{labels} value` or `name value`).
func sumCounter(r io.Reader, name string) (float64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	var sum float64
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if rest == "" || (rest[0] != '{' && rest[0] != ' ') {
			continue // a longer metric name
		}
		f := strings.Fields(rest[strings.LastIndexByte(rest, '}')+1:])
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return 0, fmt.Errorf("sfubench: metric %s: %w", name, err)
		}
		sum += v
	}
	return sum, sc.Err()
}
