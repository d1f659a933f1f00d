package machine

import (
	"io"
	"runtime"
	"strings"
	"testing"
)

func TestDescribe(t *testing.T) {
	rc := func(s string) io.ReadCloser { return io.NopCloser(strings.NewReader(s)) }
	tests := []struct {
		name              string
		cpuinfo, loadavg  io.ReadCloser
		wantCPU, wantLoad string
	}{
		{"both", rc("processor\t: 0\nmodel name\t: Test CPU @ 2.0GHz\n"), rc("0.50 1.25 2.00 1/100 42\n"), `cpu="Test CPU @ 2.0GHz"`, `load_avg="0.50 1.25 2.00"`},
		{"unreadable", nil, nil, `cpu="?"`, `load_avg="?"`},
		{"no model line", rc("processor\t: 0\n"), rc("garbage"), `cpu="?"`, `load_avg="?"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := describe(tt.cpuinfo, tt.loadavg)
			for _, want := range []string{tt.wantCPU, tt.wantLoad, "go=" + runtime.Version()} {
				if !strings.Contains(got, want) {
					t.Errorf("describe() = %s, want it to contain %s", got, want)
				}
			}
		})
	}
	if d := Describe(); !strings.Contains(d, "cpus=") {
		t.Errorf("Describe() = %s", d)
	}
}
