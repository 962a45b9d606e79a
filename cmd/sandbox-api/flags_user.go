package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/sandbox-api/sandbox-api/internal/runas"
)

// Environment variables of the existing Blaxel daemon that choose the
// workload's user.
const (
	envUser        = "BL_SANDBOX_USER"
	envUserEnabled = "BL_SANDBOX_USER_ENABLED"
)

// maxTokenBytes bounds a token read from a file or a descriptor: it has to
// fit in a request header (64 KiB in all).
const maxTokenBytes = 64 << 10

// accessConfig is who may use the API and as whom the workload runs.
type accessConfig struct {
	userSpec  string      // --user, or $BL_SANDBOX_USER when enabled
	user      *runas.User // userSpec resolved; nil: the daemon's own user
	tokenFile string      // --token-file
	// tokenInArgs says that the command line holds the token. When it
	// holds the token or names its file, argsChanged is set and argsShown is the
	// command line without them (the arguments separated by NUL bytes, as
	// /proc/<pid>/cmdline has them), what a re-execution gets (see
	// token_linux.go): its token comes another way.
	tokenInArgs bool
	argsChanged bool
	argsShown   string
}

// register adds the flags to fs; finish completes them once fs is parsed.
func (a *accessConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&a.userSpec, "user", "", "run processes, terminal shells and file operations as this user: name, uid, name:group or uid:gid (default $"+envUser+" when $"+envUserEnabled+" is true)")
	fs.StringVar(&a.tokenFile, "token-file", "", "read the bearer token from this file (trailing newline ignored); keep it readable by root only")
}

// finish applies the environment defaults, reads the token file into
// token, resolves the user and notes what the command line shows without
// the token. args are the arguments fs parsed.
func (a *accessConfig) finish(fs *flag.FlagSet, args []string, getenv func(string) string, token *string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if a.tokenFile != "" {
		if set["token"] {
			return errors.New("--token and --token-file: give the token one way")
		}
		t, err := readToken(a.tokenFile)
		if err != nil {
			return fmt.Errorf("--token-file: %w", err)
		}
		*token = t
	} else if set["token-file"] {
		return errors.New("--token-file: a path is required")
	}
	if !set["user"] {
		if v := getenv(envUserEnabled); v != "" {
			enabled, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("$%s %q: must be true or false", envUserEnabled, v)
			}
			if enabled {
				if a.userSpec = getenv(envUser); a.userSpec == "" {
					return fmt.Errorf("$%s is true but $%s is empty", envUserEnabled, envUser)
				}
			}
		}
	}
	if a.userSpec != "" {
		u, err := runas.Lookup(a.userSpec)
		if err != nil {
			return fmt.Errorf("--user: %w", err)
		}
		a.user = u
	}
	a.tokenInArgs = set["token"] && *token != ""
	if a.tokenInArgs || set["token-file"] {
		shown, _ := withoutFlag(fs, args, "token")
		shown, _ = withoutFlag(fs, shown, "token-file")
		a.argsChanged, a.argsShown = true, strings.Join(shown, "\x00")
	}
	return nil
}

// readToken reads a token from a file (a FIFO or /dev/fd/N too): the whole
// content, surrounding white space dropped. An empty one is refused: a
// token file that means "no auth" is a mistake.
func readToken(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxTokenBytes+1))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > maxTokenBytes {
		return "", fmt.Errorf("%s: a token is at most %d bytes", path, maxTokenBytes)
	}
	token := strings.TrimSpace(string(data))
	if token == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return token, nil
}

// withoutFlag returns args without every setting of the flag name (and its
// value), read as fs reads them: "-name v", "--name v", "-name=v"; a flag
// that is not boolean takes the next argument as its value whatever it
// is; parsing stops at "--" or the first non-flag. args parsed without
// error. dropped tells whether anything was removed.
func withoutFlag(fs *flag.FlagSet, args []string, name string) (kept []string, dropped bool) {
	kept = make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if len(arg) < 2 || arg[0] != '-' || arg == "--" {
			return append(kept, args[i:]...), dropped
		}
		n := strings.TrimPrefix(arg[1:], "-")
		n, _, hasValue := strings.Cut(n, "=")
		takesNext := !hasValue && !isBoolFlag(fs.Lookup(n))
		if n == name {
			dropped = true
			if takesNext {
				i++
			}
			continue
		}
		kept = append(kept, arg)
		if takesNext && i+1 < len(args) {
			i++
			kept = append(kept, args[i])
		}
	}
	return kept, dropped
}

func isBoolFlag(f *flag.Flag) bool {
	if f == nil {
		return false
	}
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}
