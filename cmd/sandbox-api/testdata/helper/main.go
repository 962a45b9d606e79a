// Command helper is a test-only program the black-box tests of sandbox-api
// run as managed processes, for what the shell does poorly or slowly.
//
//	helper listen ADDR [DELAY]  listen on ADDR (host:port) after DELAY, print "listening", wait
//	helper gen BYTES LINELEN    write BYTES bytes of LINELEN-byte lines ('x'... '\n') to stdout, fast
//	helper relay DIR            listen on 127.0.0.1, print "listening ADDR", and send the first client
//	                            the name of each entry created or removed in DIR, one line each
package main

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: helper listen ADDR [DELAY] | helper gen BYTES LINELEN | helper relay DIR")
	}
	switch os.Args[1] {
	case "listen":
		listen(os.Args[2:])
	case "gen":
		gen(os.Args[2:])
	case "relay":
		relay(os.Args[2:])
	default:
		fail("unknown mode " + os.Args[1])
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "helper:", msg)
	os.Exit(2)
}

func listen(args []string) {
	if len(args) < 1 {
		fail("listen ADDR [DELAY]")
	}
	if len(args) > 1 {
		d, err := time.ParseDuration(args[1])
		if err != nil {
			fail(err.Error())
		}
		time.Sleep(d)
	}
	ln, err := net.Listen("tcp", args[0])
	if err != nil {
		fail(err.Error())
	}
	fmt.Println("listening", ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			fail(err.Error())
		}
		_ = c.Close()
	}
}

func gen(args []string) {
	if len(args) != 2 {
		fail("gen BYTES LINELEN")
	}
	total, err1 := strconv.ParseInt(args[0], 10, 64)
	lineLen, err2 := strconv.Atoi(args[1])
	if err1 != nil || err2 != nil || lineLen < 1 || total < 0 {
		fail("gen BYTES LINELEN: bad numbers")
	}
	line := make([]byte, lineLen)
	for i := range line {
		line[i] = 'x'
	}
	line[lineLen-1] = '\n'
	// A block of whole lines, written with one syscall each.
	block := make([]byte, 0, (1<<20)/lineLen*lineLen+lineLen)
	for len(block)+lineLen <= cap(block) {
		block = append(block, line...)
	}
	for total > 0 {
		n := min(int64(len(block)), total)
		if _, err := os.Stdout.Write(block[:n]); err != nil {
			fail(err.Error())
		}
		total -= n
	}
}
