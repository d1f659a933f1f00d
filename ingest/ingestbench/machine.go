package ingestbench

import (
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"

	machinedesc "github.com/marquee-party/marquee/internal/machine"
)

// machine describes where the figures were measured, with the FFmpeg
// that did the decoding and encoding.
func machine() string {
	ff := "ffmpeg=?"
	if out, err := exec.Command("ffmpeg", "-hide_banner", "-version").Output(); err == nil {
		line, _, _ := strings.Cut(string(out), "\n")
		line, _, _ = strings.Cut(line, " Copyright")
		ff = fmt.Sprintf("ffmpeg=%q", strings.TrimPrefix(line, "ffmpeg version "))
	}
	return machinedesc.Describe() + " " + ff
}

// cpuTime is the process's user+system CPU time so far (getrusage).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
