package main

import (
	"errors"
	"flag"
	"strconv"

	"github.com/sandbox-api/sandbox-api/terminal"
)

// terminalFlags are the flags of the web terminal.
type terminalFlags struct {
	maxSessions int
	disabled    bool // $DISABLE_TERMINAL is "true": the /terminal routes are off
}

// register adds the terminal flags to fs, with their defaults. Each value
// is checked as it is parsed, so parseFlags needs nothing more.
func (t *terminalFlags) register(fs *flag.FlagSet) {
	t.maxSessions = terminal.DefaultMaxSessions
	fs.Var((*positiveInt)(&t.maxSessions), "terminal-max-sessions",
		"the `number` of terminal sessions alive at once, detached ones included; past it a new session ends the one detached the longest, or gets 503 when all are attached")
}

// positiveInt is an int flag that refuses zero and negative values.
type positiveInt int

func (p *positiveInt) String() string { return strconv.Itoa(int(*p)) }

func (p *positiveInt) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return errors.New("not an integer")
	}
	if n <= 0 {
		return errors.New("must be positive")
	}
	*p = positiveInt(n)
	return nil
}
