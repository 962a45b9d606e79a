package server

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand"
	"net/http"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/process"
)

// processJSONReference is a process answer as encoding/json writes it,
// members in the wire's order: what the hand-appended answer must equal
// byte for byte.
type processJSONReference struct {
	PID              string `json:"pid"`
	Name             string `json:"name"`
	Command          string `json:"command"`
	Status           string `json:"status"`
	StartedAt        string `json:"startedAt"`
	CompletedAt      string `json:"completedAt"`
	ExitCode         int    `json:"exitCode"`
	WorkingDir       string `json:"workingDir"`
	Logs             string `json:"logs"`
	Stdout           string `json:"stdout"`
	Stderr           string `json:"stderr"`
	RestartOnFailure bool   `json:"restartOnFailure"`
	MaxRestarts      int    `json:"maxRestarts"`
	RestartCount     int    `json:"restartCount"`
	KeepAlive        bool   `json:"keepAlive"`
	Stdin            bool   `json:"stdin"`
	Message          string `json:"message,omitempty"`
}

// checkProcessJSON compares writeProcessJSON with encoding/json for one
// record whose streams each carry output.
func checkProcessJSON(t *testing.T, info process.Info, message, output string) {
	t.Helper()
	var got bytes.Buffer
	out := func(w io.Writer, _ process.Stream) error {
		_, err := io.WriteString(w, output)
		return err
	}
	if err := writeProcessJSON(&got, info, message, out); err != nil {
		t.Fatal(err)
	}
	want, err := encodeJSON(processJSONReference{
		PID: info.PID, Name: info.Name, Command: info.Command, Status: string(info.Status),
		StartedAt: formattedWireTime(info.StartedAt), CompletedAt: formattedWireTime(info.CompletedAt),
		ExitCode: info.ExitCode, WorkingDir: info.RequestedDir,
		Logs: output, Stdout: output, Stderr: output,
		RestartOnFailure: info.RestartOnFailure, MaxRestarts: info.MaxRestarts,
		RestartCount: info.RestartCount, KeepAlive: info.KeepAlive, Stdin: info.Stdin,
		Message: message,
	})
	if err != nil {
		t.Fatal(err)
	}
	want = bytes.TrimSuffix(want, []byte("\n"))
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("process answer\n got %s\nwant %s", got.Bytes(), want)
	}
}

func TestProcessJSONSpelledAsEncodingJSON(t *testing.T) {
	started := time.Date(2026, 12, 7, 2, 30, 1, 500, time.FixedZone("CET", 3600))
	cases := []struct {
		name    string
		info    process.Info
		message string
		output  string
	}{
		{name: "running, defaults", info: process.Info{PID: "42", Name: "proc-1", Command: "sleep 10", Status: process.StatusRunning, StartedAt: started}},
		{name: "ended with a message", message: "Process stopped", output: "hello\n",
			info: process.Info{PID: "7", Name: "web", Command: "npm start", Status: process.StatusStopped, ExitCode: -1,
				StartedAt: started, CompletedAt: started.Add(time.Hour), RequestedDir: "/app", KeepAlive: true,
				RestartOnFailure: true, MaxRestarts: 3, RestartCount: 2, Stdin: true}},
		{name: "escapes everywhere", output: "a\bb\fc\x00\"\\\u2028<>&\xff",
			info: process.Info{PID: "1", Name: "n\"a\\m\te", Command: "echo '<a&b>' \b\f\x01 \u2029 \xe4\xb8",
				Status: process.StatusFailed, ExitCode: 127, StartedAt: started, RequestedDir: "dir/é"}},
		{name: "large numbers", info: process.Info{MaxRestarts: -1, RestartCount: 1 << 40, ExitCode: 255}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkProcessJSON(t, c.info, c.message, c.output) })
	}
}

// FuzzProcessJSON: any record's answer is spelled as encoding/json spells
// it.
func FuzzProcessJSON(f *testing.F) {
	f.Add("123", "proc-1", "ls -la | grep '<x>' && echo \"done\"", "dir\b\f", "", int64(0), 3, true, false)
	f.Add("", "\xff\xfe", "\u2028\u2029\x7f", "", "Process killed", int64(-1), -1, false, true)
	f.Fuzz(func(t *testing.T, pid, name, command, dir, message string, exit int64, restarts int, keepAlive, stdin bool) {
		info := process.Info{PID: pid, Name: name, Command: command, RequestedDir: dir, Status: process.StatusCompleted,
			ExitCode: int(exit), StartedAt: time.Unix(exit, 0), MaxRestarts: restarts, RestartCount: restarts / 2,
			KeepAlive: keepAlive, RestartOnFailure: !keepAlive, Stdin: stdin}
		checkProcessJSON(t, info, message, "")
	})
}

// BenchmarkProcessJSON is one exec's answer (a record, empty output),
// beside encoding/json writing the same members.
func BenchmarkProcessJSON(b *testing.B) {
	info := process.Info{PID: "4242", Name: "proc-17", Command: "true", Status: process.StatusCompleted,
		StartedAt: time.Now(), CompletedAt: time.Now()}
	empty := func(io.Writer, process.Stream) error { return nil }
	b.Run("appended", func(b *testing.B) {
		for b.Loop() {
			if err := writeProcessJSON(io.Discard, info, "", empty); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			ref := processJSONReference{PID: info.PID, Name: info.Name, Command: info.Command, Status: string(info.Status),
				StartedAt: formattedWireTime(info.StartedAt), CompletedAt: formattedWireTime(info.CompletedAt)}
			enc := json.NewEncoder(io.Discard)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(ref); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// formattedWireTime is the API's time as time.Format spells it, the
// reference appendWireTime is held to.
func formattedWireTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(http.TimeFormat)
}

func TestAppendWireTimeSpelledAsTimeFormat(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	times := []time.Time{
		{},
		time.Unix(0, 0),
		time.Date(2026, 12, 7, 23, 59, 59, 999999999, time.FixedZone("X", -11*3600)),
		time.Date(999, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-5, 3, 1, 0, 0, 0, 0, time.UTC),
	}
	for range 5000 {
		times = append(times, time.Unix(rng.Int63n(400<<30)-(100<<30), rng.Int63n(1e9)).In(time.FixedZone("Z", rng.Intn(48*1800)-24*1800)))
	}
	for _, tm := range times {
		if got, want := string(appendWireTime([]byte("x"), tm)), "x"+formattedWireTime(tm); got != want {
			t.Fatalf("appendWireTime(%v) = %q, want %q", tm, got, want)
		}
	}
}
