package chat

import (
	"crypto/rand"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// recorder keeps an engine's events across restarts.
type recorder struct {
	mu        sync.Mutex
	received  []Message
	delivered map[[16]byte]int
	typing    []Typing
	app       []AppFrame
	changed   chan struct{}
}

func newRecorder() *recorder {
	return &recorder{delivered: map[[16]byte]int{}, changed: make(chan struct{}, 1)}
}

func (r *recorder) onEvent(ev Event) {
	r.mu.Lock()
	switch ev := ev.(type) {
	case Received:
		r.received = append(r.received, ev.Message)
	case Delivered:
		r.delivered[ev.ID]++
	case Typing:
		r.typing = append(r.typing, ev)
	case AppFrame:
		r.app = append(r.app, ev)
	}
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// wait polls cond under r's lock until it holds or d passes.
func (r *recorder) wait(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(d)
	for {
		r.mu.Lock()
		ok := cond()
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.changed:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
	}
}

func testKey() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// openTest opens an engine for self in dir with key, recording events
// into r, and closes it when the test ends (Close twice is fine).
func openTest(t testing.TB, dir, self string, key []byte, r *recorder, retry time.Duration) *Engine {
	t.Helper()
	cfg := Config{Path: filepath.Join(dir, self+".db"), Key: key, Self: self, Logger: quietLogger(), Retry: retry}
	if r != nil {
		cfg.OnEvent = r.onEvent
	}
	e, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}
