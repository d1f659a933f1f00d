// Package machine describes the host a benchmark ran on, for the first line
// of every `bench` command's report: figures mean little without the CPU,
// its core count and how busy the machine was.
package machine

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
)

// Describe returns one line: CPU model, logical CPUs, Go version, OS/arch
// and the 1-, 5- and 15-minute load averages. Fields it cannot read are "?".
func Describe() string {
	return describe(open("/proc/cpuinfo"), open("/proc/loadavg"))
}

func open(path string) io.ReadCloser {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	return f
}

func describe(cpuinfo, loadavg io.ReadCloser) string {
	model, load := "?", "?"
	if cpuinfo != nil {
		sc := bufio.NewScanner(cpuinfo)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
		_ = cpuinfo.Close()
	}
	if loadavg != nil {
		b, _ := io.ReadAll(loadavg)
		if f := strings.Fields(string(b)); len(f) >= 3 {
			load = strings.Join(f[:3], " ")
		}
		_ = loadavg.Close()
	}
	return fmt.Sprintf("cpu=%q cpus=%d go=%s %s/%s load_avg=%q",
		model, runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH, load)
}
