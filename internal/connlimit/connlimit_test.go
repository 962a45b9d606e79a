package connlimit

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// hangGuard bounds each wait for an event that must come (the tests' one
// policy, testsupport.HangGuard).
const hangGuard = testsupport.HangGuard

// fakeConn is a connection whose only use here is being closed.
type fakeConn struct {
	net.Conn // nil: any other method would panic
	name     string
	closed   chan struct{}
}

func newFakeConn(name string) *fakeConn {
	return &fakeConn{name: name, closed: make(chan struct{})}
}

func (f *fakeConn) Close() error {
	select {
	case <-f.closed:
		return errors.New("closed twice")
	default:
		close(f.closed)
		return nil
	}
}

func (f *fakeConn) isClosed() bool {
	select {
	case <-f.closed:
		return true
	default:
		return false
	}
}

func TestMaxFor(t *testing.T) {
	tests := []struct {
		fdLimit uint64
		want    int
	}{
		{0, DefaultMax}, // unknown limit
		{1 << 20, DefaultMax},
		{2 * DefaultMax, DefaultMax},
		{2*DefaultMax - 2, DefaultMax - 1},
		{1024, 512},
		{1, 1},
	}
	for _, tt := range tests {
		if got := MaxFor(tt.fdLimit); got != tt.want {
			t.Errorf("MaxFor(%d) = %d, want %d", tt.fdLimit, got, tt.want)
		}
	}
}

// TestEvictionOrder plays sequences of connection events on a limiter of
// three and checks which connection each admission closes.
func TestEvictionOrder(t *testing.T) {
	// Steps: "+x" admits x, "active x" reports x's request headers read,
	// "done x" completes x's request, "idle x" ends it (keep-alive), "ws x"
	// hijacks x, "close x" closes x. evicts maps
	// the index of a "+x" step to the connection it must close.
	tests := []struct {
		name   string
		steps  []string
		evicts map[int]string
	}{
		{
			name:   "oldest incomplete first",
			steps:  []string{"+a", "+b", "+c", "+d", "+e"},
			evicts: map[int]string{3: "a", 4: "b"},
		},
		{
			name:   "complete requests are kept",
			steps:  []string{"+a", "+b", "+c", "done a", "+d", "+e"},
			evicts: map[int]string{4: "b", 5: "c"},
		},
		{
			name:   "idle connections count from when they went idle",
			steps:  []string{"+a", "+b", "done a", "+c", "idle a", "+d", "+e"},
			evicts: map[int]string{5: "b", 6: "c"},
		},
		{
			name:   "a request answered before its body came still makes its connection young when idle",
			steps:  []string{"+a", "+b", "idle a", "+c", "+d"},
			evicts: map[int]string{4: "b"},
		},
		{
			name:   "a hijacked connection is kept",
			steps:  []string{"+a", "done a", "ws a", "+b", "+c", "+d"},
			evicts: map[int]string{5: "b"},
		},
		{
			name:   "a closed connection frees its place",
			steps:  []string{"+a", "+b", "+c", "close a", "+d", "+e"},
			evicts: map[int]string{5: "b"},
		},
		{
			name:   "an idle connection whose next request is incomplete keeps its age",
			steps:  []string{"+a", "done a", "idle a", "+b", "active a", "+c", "+d"},
			evicts: map[int]string{6: "a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := New(3)
			fakes := map[string]*fakeConn{}
			conns := map[string]*Conn{}
			for i, step := range tt.steps {
				before := map[string]bool{}
				for name, f := range fakes {
					before[name] = f.isClosed()
				}
				if name, ok := cutPrefix(step, "+"); ok {
					fakes[name] = newFakeConn(name)
					conns[name] = l.admit(fakes[name])
				} else if name, ok := cutPrefix(step, "active "); ok {
					l.ConnState(conns[name], http.StateActive)
				} else if name, ok := cutPrefix(step, "done "); ok {
					RequestComplete(l.ConnContext(context.Background(), conns[name]))
				} else if name, ok := cutPrefix(step, "idle "); ok {
					l.ConnState(conns[name], http.StateIdle)
				} else if name, ok := cutPrefix(step, "ws "); ok {
					l.ConnState(conns[name], http.StateHijacked)
				} else if name, ok := cutPrefix(step, "close "); ok {
					if err := conns[name].Close(); err != nil {
						t.Fatalf("step %d: close %s: %v", i, name, err)
					}
					continue
				} else {
					t.Fatalf("bad step %q", step)
				}
				for name, f := range fakes {
					if before[name] || !f.isClosed() {
						continue
					}
					if tt.evicts[i] != name {
						t.Fatalf("step %d (%s) closed %s, want %q", i, step, name, tt.evicts[i])
					}
				}
				if want := tt.evicts[i]; want != "" && (before[want] || !fakes[want].isClosed()) {
					t.Fatalf("step %d (%s) did not close %s", i, step, want)
				}
				if l.Open() > l.Max() {
					t.Fatalf("step %d: %d open, over the bound %d", i, l.Open(), l.Max())
				}
			}
		})
	}
}

func cutPrefix(s, prefix string) (string, bool) {
	if len(s) > len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):], true
	}
	return "", false
}

func TestCloseIsIdempotentAndFreesOnce(t *testing.T) {
	l := New(2)
	a := l.admit(newFakeConn("a"))
	b := l.admit(newFakeConn("b"))
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil { // the fake fails a second inner close
		t.Fatal(err)
	}
	l.ConnState(a, http.StateClosed) // what net/http reports afterwards
	if got := l.Open(); got != 1 {
		t.Fatalf("Open() = %d after closing one of two, want 1", got)
	}
	_ = b.Close()
	if got := l.Open(); got != 0 {
		t.Fatalf("Open() = %d after closing both, want 0", got)
	}
}

// TestEvictedConnCloseIsQuiet: the server closes an evicted connection
// again; that must neither close the inner connection twice nor free a
// second place.
func TestEvictedConnCloseIsQuiet(t *testing.T) {
	l := New(1)
	fa := newFakeConn("a")
	a := l.admit(fa)
	b := l.admit(newFakeConn("b"))
	if !fa.isClosed() {
		t.Fatal("a was not evicted")
	}
	if err := a.Close(); err != nil {
		t.Fatalf("second close of an evicted connection: %v", err)
	}
	if got := l.Open(); got != 1 {
		t.Fatalf("Open() = %d, want 1 (b)", got)
	}
	_ = b.Close()
}

// fakeListener hands out the connections pushed into it.
type fakeListener struct {
	conns  chan net.Conn
	closed chan struct{}
}

func newFakeListener() *fakeListener {
	return &fakeListener{conns: make(chan net.Conn, 8), closed: make(chan struct{})}
}

func (f *fakeListener) Accept() (net.Conn, error) {
	select {
	case c := <-f.conns:
		return c, nil
	case <-f.closed:
		return nil, net.ErrClosed
	}
}

func (f *fakeListener) Close() error   { close(f.closed); return nil }
func (f *fakeListener) Addr() net.Addr { return &net.TCPAddr{} }

type accepted struct {
	c   net.Conn
	err error
}

// waitingAccept starts an Accept on a limiter of one whose only
// connection is busy, and returns once Accept waits for room.
func waitingAccept(t *testing.T) (ln net.Listener, first *Conn, result chan accepted, second *fakeConn) {
	t.Helper()
	l := New(1)
	waiting := make(chan struct{}, 1)
	l.onWait = func() {
		select {
		case waiting <- struct{}{}:
		default:
		}
	}
	fl := newFakeListener()
	ln = l.Listen(fl)
	fl.conns <- newFakeConn("first")
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	first = c.(*Conn)
	RequestComplete(l.ConnContext(context.Background(), first))

	second = newFakeConn("second")
	fl.conns <- second
	result = make(chan accepted, 1)
	go func() {
		c, err := ln.Accept()
		result <- accepted{c, err}
	}()
	select {
	case <-waiting:
	case r := <-result:
		t.Fatalf("Accept returned (%v, %v) while the only connection is busy", r.c, r.err)
	case <-time.After(hangGuard):
		t.Fatal("Accept never waited for room")
	}
	return ln, first, result, second
}

func TestAcceptWaitsWhileAllBusy(t *testing.T) {
	tests := []struct {
		name    string
		free    func(l *Limiter, first *Conn)
		evicted bool // the first connection is closed to make room
	}{
		{name: "until the busy one closes", free: func(_ *Limiter, first *Conn) { _ = first.Close() }},
		{name: "until the busy one goes idle", free: func(l *Limiter, first *Conn) { l.ConnState(first, http.StateIdle) }, evicted: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, first, result, second := waitingAccept(t)
			defer ln.Close()
			tt.free(first.l, first)
			select {
			case r := <-result:
				if r.err != nil {
					t.Fatalf("Accept: %v", r.err)
				}
				if r.c.(*Conn).Conn != second {
					t.Fatalf("Accept returned %v, want the second connection", r.c)
				}
			case <-time.After(hangGuard):
				t.Fatal("Accept still waits after room was made")
			}
			if got := first.Conn.(*fakeConn).isClosed(); got != true {
				t.Fatalf("first connection closed = %v, want true", got)
			}
			if tt.evicted && first.l.Open() != 1 {
				t.Fatalf("Open() = %d after evicting the idle one, want 1", first.l.Open())
			}
		})
	}
}

func TestCloseEndsWaitingAccept(t *testing.T) {
	ln, first, result, second := waitingAccept(t)
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-result:
		if !errors.Is(r.err, net.ErrClosed) {
			t.Fatalf("Accept after Close: (%v, %v), want net.ErrClosed", r.c, r.err)
		}
	case <-time.After(hangGuard):
		t.Fatal("Accept still waits after the listener was closed")
	}
	if !second.isClosed() {
		t.Error("the connection accepted while waiting was not closed")
	}
	if first.Conn.(*fakeConn).isClosed() {
		t.Error("closing the listener closed a busy connection")
	}
}

func TestRequestCompleteWithoutTrackedConn(t *testing.T) {
	RequestComplete(context.Background()) // must not panic
	l := New(1)
	ctx := l.ConnContext(context.Background(), newFakeConn("untracked"))
	RequestComplete(ctx)
}
