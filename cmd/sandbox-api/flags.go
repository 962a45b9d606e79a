package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/sandbox-api/sandbox-api/filesystem"
	"github.com/sandbox-api/sandbox-api/process"
	"github.com/sandbox-api/sandbox-api/server"
	"github.com/sandbox-api/sandbox-api/terminal"
)

// Environment variables that provide flag defaults, or settings of their
// own (DISABLE_TERMINAL has no flag: the existing daemon's variable).
const (
	envLogDir          = "SANDBOX_LOG_DIR"
	envToken           = "SANDBOX_API_TOKEN"
	envMCPDisabled     = "MCP_DISABLED"
	envDisableTerminal = "DISABLE_TERMINAL"
)

// defaultPort is the port the Blaxel platform routes to the sandbox API.
const defaultPort = 8080

// config is the parsed command line.
type config struct {
	host               string
	port               int
	command            string
	logDir             string // "" = the default folder, with its fallback
	shutdownGrace      time.Duration
	token              string
	keepalive          time.Duration
	maxLogProcessBytes int64
	maxLogTotalBytes   int64
	maxEndedProcesses  int
	maxStreams         int
	uploadDir          string
	uploadTTL          time.Duration
	terminalIdle       time.Duration
	terminal           terminalFlags
	showVersion        bool
	mcpDisabled        bool
	textHugePages      bool
	browser            browserFlags
	bounds             boundsConfig
	access             accessConfig // --user, --token-file (flags_user.go)
	conns              connsConfig
	upgrade            upgradeFlags // flags_upgrade.go
}

// parseFlags reads args (without the program name). Long and short names
// share one variable; the flag package accepts both -name and --name.
// getenv supplies the environment defaults so tests need not touch the real
// environment. Errors are already reported on output when it returns.
func parseFlags(args []string, getenv func(string) string, output io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("sandbox-api", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: sandbox-api [flags]\n\nServes the sandbox HTTP API.\n\nFlags:\n")
		fs.PrintDefaults()
	}

	fs.IntVar(&c.port, "port", defaultPort, "TCP port to listen on (0 picks a free one)")
	fs.IntVar(&c.port, "p", defaultPort, "shorthand for --port")
	fs.StringVar(&c.host, "host", "", "address to listen on (empty: all interfaces)")
	fs.StringVar(&c.command, "command", "", "shell command started at boot as a managed process named boot-command")
	fs.StringVar(&c.command, "c", "", "shorthand for --command")
	fs.StringVar(&c.logDir, "log-dir", "", "folder for process output (default $"+envLogDir+", else "+defaultLogDir+", else a folder in the temp dir)")
	fs.DurationVar(&c.shutdownGrace, "shutdown-grace", process.DefaultShutdownGrace, "on shutdown, time between SIGTERM and SIGKILL to managed processes")
	// No default shown: --help must not print the secret.
	fs.StringVar(&c.token, "token", "", "bearer token required on every route but /health (default $"+envToken+"; empty: no auth)")
	fs.DurationVar(&c.keepalive, "keepalive", server.DefaultKeepaliveInterval, "interval of keepalive frames in streams")
	fs.Int64Var(&c.maxLogProcessBytes, "log-max-process-bytes", process.DefaultMaxLogBytesPerProcess, "output kept on disk per process, in bytes")
	fs.Int64Var(&c.maxLogTotalBytes, "log-max-total-bytes", process.DefaultMaxLogBytesTotal, "output kept on disk for all processes, in bytes")
	fs.IntVar(&c.maxEndedProcesses, "max-ended-processes", process.DefaultMaxEndedProcesses, "ended process records kept")
	fs.IntVar(&c.maxStreams, "max-streams", server.DefaultMaxStreams, "streaming requests served at once (log streams, watches, streamed execs, terminal sockets); more get 503")
	fs.StringVar(&c.uploadDir, "upload-dir", "", "folder for the parts of multipart uploads (default $TMPDIR/sandbox-api-uploads)")
	fs.DurationVar(&c.uploadTTL, "upload-ttl", filesystem.DefaultUploadTTL, "multipart uploads untouched this long are removed")
	fs.DurationVar(&c.terminalIdle, "terminal-idle", terminal.DefaultIdleTimeout, "terminal sessions with no client attached this long are ended (negative: never)")
	c.terminal.register(fs)
	fs.BoolVar(&c.mcpDisabled, "mcp-disabled", false, "do not serve the MCP endpoint at /mcp (default $"+envMCPDisabled+")")
	fs.BoolVar(&c.textHugePages, "text-huge-pages", true, "move the Go runtime's code onto a huge page a moment after the start (false: keep it on the executable's pages, for profilers such as perf)")
	fs.BoolVar(&c.showVersion, "version", false, "print the version and exit")
	registerBrowserFlags(fs, &c.browser)
	registerBoundsFlags(fs, &c.bounds)
	c.access.register(fs)
	registerConnsFlags(fs, &c.conns)
	c.upgrade.register(fs)

	// The flag package reports its own parse errors on output.
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, reportf(output, "unexpected arguments %q (quote the --command value)", fs.Args())
	}

	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["log-dir"] {
		c.logDir = getenv(envLogDir)
	}
	if v := getenv(envMCPDisabled); !set["mcp-disabled"] && v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, reportf(output, "$%s %q: must be true or false", envMCPDisabled, v)
		}
		c.mcpDisabled = b
	}
	if !set["token"] {
		c.token = getenv(envToken)
	}
	c.terminal.disabled = getenv(envDisableTerminal) == "true"
	// A token read from a file often ends with a newline it was never meant
	// to contain; clients could never send it back.
	c.token = strings.TrimSpace(c.token)
	if err := c.access.finish(fs, args, getenv, &c.token); err != nil {
		return c, reportf(output, "%w", err)
	}

	if err := c.validate(); err != nil {
		return c, reportf(output, "%w", err)
	}
	return c, nil
}

// reportf prints an error the way the flag package prints its own, and
// returns it.
func reportf(output io.Writer, format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	fmt.Fprintf(output, "sandbox-api: %v\nRun sandbox-api --help for usage.\n", err)
	return err
}

func (c config) validate() error {
	var errs []error
	if c.port < 0 || c.port > 65535 {
		errs = append(errs, fmt.Errorf("--port %d: must be between 0 and 65535", c.port))
	}
	if c.shutdownGrace < 0 {
		errs = append(errs, fmt.Errorf("--shutdown-grace %s: must not be negative", c.shutdownGrace))
	}
	if c.keepalive <= 0 {
		errs = append(errs, fmt.Errorf("--keepalive %s: must be positive", c.keepalive))
	}
	if c.maxLogProcessBytes <= 0 {
		errs = append(errs, fmt.Errorf("--log-max-process-bytes %d: must be positive", c.maxLogProcessBytes))
	}
	if c.maxLogTotalBytes <= 0 {
		errs = append(errs, fmt.Errorf("--log-max-total-bytes %d: must be positive", c.maxLogTotalBytes))
	}
	if c.uploadTTL <= 0 {
		errs = append(errs, fmt.Errorf("--upload-ttl %s: must be positive", c.uploadTTL))
	}
	if c.maxStreams <= 0 {
		errs = append(errs, fmt.Errorf("--max-streams %d: must be positive", c.maxStreams))
	}
	if c.maxEndedProcesses <= 0 {
		errs = append(errs, fmt.Errorf("--max-ended-processes %d: must be positive", c.maxEndedProcesses))
	}
	errs = append(errs, c.bounds.validate(), c.upgrade.validate())
	return errors.Join(errs...)
}
