package netlab

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"testing"
)

func selfPath(t *testing.T) string {
	p, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestHelperListen is not a test: run by TestTwoHostsTalkTCP inside a
// namespace, it accepts one connection and prints what it read.
func TestHelperListen(t *testing.T) {
	if os.Getenv("NETLAB_HELPER") != "listen" {
		t.Skip("helper process")
	}
	ln, err := net.Listen("tcp", os.Getenv("NETLAB_ADDR"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("listening")
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(c).ReadString('\n')
	host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
	fmt.Printf("got %s from %s\n", line[:len(line)-1], host)
}

// TestHelperDial is not a test: it sends hello to NETLAB_ADDR.
func TestHelperDial(t *testing.T) {
	if os.Getenv("NETLAB_HELPER") != "dial" {
		t.Skip("helper process")
	}
	c, err := net.Dial("tcp", os.Getenv("NETLAB_ADDR"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(c, "hello")
	_ = c.Close()
}
