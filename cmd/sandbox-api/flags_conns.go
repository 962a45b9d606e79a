package main

import (
	"flag"
	"fmt"
	"strconv"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/connlimit"
	"github.com/sandbox-api/sandbox-api/server"
)

// connsConfig bounds what any client, with or without credentials, can
// hold of the daemon: connections, and the time to send a request. Zero
// values stand for the defaults, which the methods below resolve.
type connsConfig struct {
	maxConns      int           // 0: connlimit.MaxFor the open file limit
	headerTimeout time.Duration // 0: server.DefaultHeaderTimeout
	bodyIdle      time.Duration // 0: server.DefaultBodyIdleTimeout
}

// registerConnsFlags adds the connection flags to fs. Their values are
// checked as they are parsed, so parseFlags has nothing more to validate.
func registerConnsFlags(fs *flag.FlagSet, c *connsConfig) {
	// The usages are joined, not formatted: fmt's first use costs a start
	// some 20 µs, for texts only --help prints.
	fs.Var(nonNegativeInt{&c.maxConns}, "max-connections",
		"at most this `number` of open connections; at the bound, a new one closes the one that has waited longest without a complete request (0: "+
			strconv.Itoa(connlimit.DefaultMax)+", or half the open file limit when lower)")
	fs.Var(nonNegativeDuration{&c.headerTimeout}, "header-timeout",
		"a connection whose request headers take longer than this `duration` is closed (0: "+server.DefaultHeaderTimeout.String()+")")
	fs.Var(nonNegativeDuration{&c.bodyIdle}, "body-idle-timeout",
		"a request body that sends nothing for this `duration` ends its connection (0: "+server.DefaultBodyIdleTimeout.String()+")")
}

// maxConnections is the connection bound for a process allowed fdLimit
// open files (0: unknown).
func (c connsConfig) maxConnections(fdLimit uint64) int {
	if c.maxConns > 0 {
		return c.maxConns
	}
	return connlimit.MaxFor(fdLimit)
}

func (c connsConfig) headerTimeoutOrDefault() time.Duration {
	if c.headerTimeout > 0 {
		return c.headerTimeout
	}
	return server.DefaultHeaderTimeout
}

// nonNegativeInt is an int flag that refuses negative values.
type nonNegativeInt struct{ p *int }

func (v nonNegativeInt) String() string {
	if v.p == nil {
		return "0"
	}
	return strconv.Itoa(*v.p)
}

func (v nonNegativeInt) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("not an integer")
	}
	if n < 0 {
		return fmt.Errorf("must not be negative")
	}
	*v.p = n
	return nil
}

// nonNegativeDuration is a duration flag that refuses negative values.
type nonNegativeDuration struct{ p *time.Duration }

func (v nonNegativeDuration) String() string {
	if v.p == nil {
		return "0s"
	}
	return v.p.String()
}

func (v nonNegativeDuration) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("not a duration (like 30s or 2m)")
	}
	if d < 0 {
		return fmt.Errorf("must not be negative")
	}
	*v.p = d
	return nil
}
