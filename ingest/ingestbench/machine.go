package ingestbench

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// machine describes where the figures were measured.
func machine() string {
	model := "unknown CPU"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
		_ = f.Close()
	}
	ff := "ffmpeg ?"
	if out, err := exec.Command("ffmpeg", "-hide_banner", "-version").Output(); err == nil {
		ff, _, _ = strings.Cut(string(out), "\n")
		if i := strings.Index(ff, " Copyright"); i > 0 {
			ff = ff[:i]
		}
	}
	load := ""
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(b))
		if len(f) > 0 {
			load = ", load " + f[0]
		}
	}
	return fmt.Sprintf("%s, %d cores, %s %s/%s, %s%s", model, runtime.NumCPU(), runtime.Version(),
		runtime.GOOS, runtime.GOARCH, ff, load)
}

// cpuTime is the process's user+system CPU time so far (getrusage).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
