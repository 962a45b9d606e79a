package filesystem

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

func TestWaitHeavyReadQueues(t *testing.T) {
	f, err := New(Config{WorkingDir: t.TempDir(), UploadDir: t.TempDir(), MaxHeavyReads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	ctx := context.Background()
	first, err := f.WaitHeavyRead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	second, err := f.WaitHeavyRead(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// Full: a waiter whose client left gets an error, not a slot.
	gone, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := f.WaitHeavyRead(gone); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled wait on a full queue: %v, want context.Canceled", err)
	}

	// A waiter gets its turn when a slot is given back.
	got := make(chan func(), 1)
	go func() {
		release, err := f.WaitHeavyRead(ctx)
		if err != nil {
			t.Error(err)
			release = func() {}
		}
		got <- release
	}()
	first()
	select {
	case third := <-got:
		third()
	case <-time.After(testsupport.HangGuard): // a hang guard, not a timing
		t.Fatal("the waiter never got the slot given back")
	}
	second()
	if n := len(f.heavy.slots); n != 0 {
		t.Fatalf("%d slots still taken after every release", n)
	}
}

func TestDefaultMaxHeavyReadsApplies(t *testing.T) {
	f := newSearchFS(t, t.TempDir())
	if n := cap(f.heavy.slots); n != DefaultMaxHeavyReads {
		t.Fatalf("%d slots, want DefaultMaxHeavyReads %d", n, DefaultMaxHeavyReads)
	}
}
