package sfubench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// buildSFU compiles pkg (./cmd/sfu) of the module around the working
// directory into dir and returns the binary's path.
func buildSFU(ctx context.Context, pkg, dir string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "sfu")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("sfubench: go build %s: %w\n%s", pkg, err, out)
	}
	return bin, nil
}

// moduleRoot walks up from the working directory to the go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("sfubench: no go.mod above the working directory (or pass --sfu-binary)")
		}
		dir = parent
	}
}

// sfuProcess is one running SFU.
type sfuProcess struct {
	cmd     *exec.Cmd
	wsURL   string
	metrics string
	logPath string
	exited  chan error
}

// startSFU runs bin --dev on free loopback ports and waits until it is
// ready.
func startSFU(ctx context.Context, bin, dir string) (*sfuProcess, error) {
	httpPort, err := freePort("tcp")
	if err != nil {
		return nil, err
	}
	udpPort, err := freePort("udp")
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "sfu-"+strconv.Itoa(httpPort)+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	addr := "127.0.0.1:" + strconv.Itoa(httpPort)
	cmd := exec.Command(bin, "--dev", "--listen="+addr,
		"--sfu.rtc.udp_port="+strconv.Itoa(udpPort), "--log.level=warn")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("sfubench: start sfu: %w", err)
	}
	p := &sfuProcess{cmd: cmd, wsURL: "ws://" + addr, metrics: "http://" + addr + "/metrics",
		logPath: logPath, exited: make(chan error, 1)}
	go func() { p.exited <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/readyz", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		select {
		case err := <-p.exited:
			return nil, fmt.Errorf("sfubench: sfu exited (%v); log in %s", err, logPath)
		case <-ctx.Done():
			p.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("sfubench: sfu not ready after 30 s; log in %s", logPath)
		}
	}
}

// pid returns the SFU's process ID.
func (p *sfuProcess) pid() int { return p.cmd.Process.Pid }

// stop asks the SFU to drain (SIGTERM) and kills it after 10 s.
func (p *sfuProcess) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// freePort finds a free loopback port for network "tcp" or "udp".
func freePort(network string) (int, error) {
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
