package process

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// Execute's bounds are checked by the error's words ("after 250ms"), not by
// timing: each case waits on a process that never ends by itself, so the
// wait always gives up, and the text says which bound it used.
func TestExecuteWaitBounds(t *testing.T) {
	m := newTestManager(t, nil)
	second := time.Second
	zero := time.Duration(0)
	cases := []struct {
		name    string
		req     ExecuteRequest
		want    error
		wantTxt string
	}{
		{"completion, no timeout: the door's bound",
			ExecuteRequest{WaitForCompletion: true, Waits: Waits{Completion: 250 * time.Millisecond, Ports: hangGuard}},
			ErrWaitTimeout, "after 250ms"},
		{"completion, timeout 0: the door's bound",
			ExecuteRequest{Spec: Spec{Timeout: &zero}, WaitForCompletion: true, Waits: Waits{Completion: 250 * time.Millisecond}},
			ErrWaitTimeout, "after 250ms"},
		{"completion, a timeout: it wins",
			ExecuteRequest{Spec: Spec{Timeout: &second}, WaitForCompletion: true, Waits: Waits{Completion: hangGuard}},
			ErrWaitTimeout, "after 1 seconds"},
		{"ports, no timeout: the door's bound",
			ExecuteRequest{WaitForPorts: []int{testsupport.FreePort(t, "tcp", "")}, Waits: Waits{Ports: 250 * time.Millisecond, Completion: hangGuard}},
			ErrPortsTimeout, "after 250ms"},
		{"ports, a timeout: it wins",
			ExecuteRequest{Spec: Spec{Timeout: &second}, WaitForPorts: []int{testsupport.FreePort(t, "tcp", "")}, Waits: Waits{Ports: hangGuard}},
			ErrPortsTimeout, "after 1s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Command = "exec sleep 100"
			p, err := m.Execute(testCtx(t), tc.req)
			if p == nil {
				t.Fatalf("Execute = nil, %v; want the started process", err)
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.wantTxt) {
				t.Fatalf("Execute error = %v; want %v %q", err, tc.want, tc.wantTxt)
			}
			if st := p.Info().Status; st != StatusRunning {
				t.Errorf("status after a wait gave up = %s; the process must keep running", st)
			}
		})
	}
}

func TestExecuteWaitsForCompletion(t *testing.T) {
	m := newTestManager(t, nil)
	p, err := m.Execute(testCtx(t), ExecuteRequest{Spec: Spec{Command: "echo done"}, WaitForCompletion: true})
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	if info := p.Info(); info.Status != StatusCompleted || logText(t, p.Log(), Stdout) != "done\n" {
		t.Errorf("after Execute: status %s, output %q", info.Status, logText(t, p.Log(), Stdout))
	}
}

func TestExecuteWithoutWaits(t *testing.T) {
	m := newTestManager(t, nil)
	p, err := m.Execute(testCtx(t), ExecuteRequest{Spec: Spec{Command: "exec sleep 100"}})
	if err != nil || p == nil || p.Info().Status != StatusRunning {
		t.Fatalf("Execute: started %t, error %v; want a running process", p != nil, err)
	}
}

// A refused request starts nothing, and says so with a nil process.
func TestExecuteRefusesBeforeStarting(t *testing.T) {
	m := newTestManager(t, nil)
	for _, req := range []ExecuteRequest{
		{Spec: Spec{Command: "true"}, WaitForPorts: []int{70000}},
		{Spec: Spec{Command: " "}},
		{Spec: Spec{Command: "true", Env: map[string]string{"A=B": "x"}}},
	} {
		p, err := m.Execute(testCtx(t), req)
		if p != nil || !errors.Is(err, ErrInvalidSpec) {
			t.Errorf("Execute(%+v): started %t, error %v; want nothing started, ErrInvalidSpec", req, p != nil, err)
		}
	}
	if n := len(m.List()); n != 0 {
		t.Errorf("%d processes started by refused requests", n)
	}
}
