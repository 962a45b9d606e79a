package testsupport

import "fmt"

// Proc mirrors the daemon's process record (ProcessResponse) as the black-box
// tests read it. The output fields are pointers, so that null is told apart
// from "".
type Proc struct {
	PID              string  `json:"pid"`
	Name             string  `json:"name"`
	Command          string  `json:"command"`
	Status           string  `json:"status"`
	StartedAt        string  `json:"startedAt"`
	CompletedAt      string  `json:"completedAt"`
	ExitCode         int     `json:"exitCode"`
	WorkingDir       string  `json:"workingDir"`
	RestartOnFailure bool    `json:"restartOnFailure"`
	MaxRestarts      int     `json:"maxRestarts"`
	RestartCount     int     `json:"restartCount"`
	KeepAlive        bool    `json:"keepAlive"`
	Stdin            bool    `json:"stdin"`
	Message          string  `json:"message"`
	Logs             *string `json:"logs"`
	Stdout           *string `json:"stdout"`
	Stderr           *string `json:"stderr"`
}

// StdoutText is the record's stdout, "" for null.
func (p Proc) StdoutText() string { return Deref(p.Stdout) }

// StderrText is the record's stderr, "" for null.
func (p Proc) StderrText() string { return Deref(p.Stderr) }

// LogsText is the record's interleaved output, "" for null.
func (p Proc) LogsText() string { return Deref(p.Logs) }

// String is the record in one line, for failure messages.
func (p Proc) String() string {
	return fmt.Sprintf("{name %q pid %s status %s exit %d restarts %d dir %q command %q message %q logs %s stdout %s stderr %s}",
		p.Name, p.PID, p.Status, p.ExitCode, p.RestartCount, p.WorkingDir, p.Command, p.Message,
		quoteOrNull(p.Logs), quoteOrNull(p.Stdout), quoteOrNull(p.Stderr))
}

// ProcessLogs mirrors the answer of GET /process/{id}/logs.
type ProcessLogs struct {
	Logs   *string `json:"logs"`
	Stdout *string `json:"stdout"`
	Stderr *string `json:"stderr"`
}

// Deref is *s, or "" for nil.
func Deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func quoteOrNull(s *string) string {
	if s == nil {
		return "null"
	}
	return fmt.Sprintf("%q", *s)
}
