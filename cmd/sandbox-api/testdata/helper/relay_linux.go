package main

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
)

// relay is the floor of a watch through a socket, for the watch latency
// benchmark: the least a separate Go process can do to pass inotify events
// to a client over loopback TCP. It reads the instance through the
// runtime's poller, as a Go daemon does, and writes what one read returned
// with one write. No HTTP, no JSON, no queue, no second goroutine.
func relay(args []string) {
	if len(args) != 1 {
		fail("relay DIR")
	}
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	if err != nil {
		fail(err.Error())
	}
	if _, err := syscall.InotifyAddWatch(fd, args[0], syscall.IN_CREATE|syscall.IN_DELETE); err != nil {
		fail(err.Error())
	}
	in := os.NewFile(uintptr(fd), "inotify")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err.Error())
	}
	fmt.Println("listening", ln.Addr())
	c, err := ln.Accept()
	if err != nil {
		fail(err.Error())
	}
	buf := make([]byte, 64<<10)
	out := make([]byte, 0, 64<<10)
	for {
		n, err := in.Read(buf)
		if err != nil {
			fail(err.Error())
		}
		out = out[:0]
		for off := 0; off+syscall.SizeofInotifyEvent <= n; {
			nameLen := int(binary.NativeEndian.Uint32(buf[off+12:]))
			end := min(off+syscall.SizeofInotifyEvent+nameLen, n)
			out = append(out, strings.TrimRight(string(buf[off+syscall.SizeofInotifyEvent:end]), "\x00")...)
			out = append(out, '\n')
			off = end
		}
		if _, err := c.Write(out); err != nil {
			os.Exit(0) // the benchmark is over
		}
	}
}
