package audio

import (
	"errors"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"
)

// pacedSources are the clocked sources, made fresh.
func pacedSources(t *testing.T) map[string]func() Source {
	path := filepath.Join(t.TempDir(), "long.wav")
	if err := WriteWAVFile(path, make([]int16, 100*FrameSamples)); err != nil {
		t.Fatal(err)
	}
	return map[string]func() Source{
		"wav": func() Source {
			s, err := OpenWAV(path)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		"tone":    func() Source { return NewTone(440) },
		"silence": Silence,
	}
}

// TestPacing: ten frames take 200 ms on the clock, as from a
// microphone, and a reader that stalls does not get a burst.
func TestPacing(t *testing.T) {
	for name, open := range pacedSources(t) {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := open()
				defer s.Close()
				frame := make([]int16, FrameSamples)
				start := time.Now()
				for range 10 {
					if err := s.Read(frame); err != nil {
						t.Fatal(err)
					}
				}
				if d := time.Since(start); d != 200*time.Millisecond {
					t.Errorf("10 frames: got %v, want 200ms", d)
				}
				time.Sleep(time.Second) // the reader stalls
				start = time.Now()
				for range 3 {
					if err := s.Read(frame); err != nil {
						t.Fatal(err)
					}
				}
				if d := time.Since(start); d != 40*time.Millisecond {
					t.Errorf("3 frames after a stall: got %v, want 40ms", d)
				}
			})
		})
	}
}

// TestPacingWallClock: the same on the real clock, loosely.
func TestPacingWallClock(t *testing.T) {
	s := NewTone(440)
	defer s.Close()
	frame := make([]int16, FrameSamples)
	start := time.Now()
	for range 10 {
		if err := s.Read(frame); err != nil {
			t.Fatal(err)
		}
	}
	d := time.Since(start)
	t.Logf("10 paced frames took %v", d)
	if d < 180*time.Millisecond || d >= time.Second {
		t.Errorf("10 frames: got %v, want about 200ms", d)
	}
}

// TestCloseUnblocksRead: Close makes a Read waiting for its frame's
// time return ErrClosed at once.
func TestCloseUnblocksRead(t *testing.T) {
	for name, open := range pacedSources(t) {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := open()
				frame := make([]int16, FrameSamples)
				errc := make(chan error)
				go func() { errc <- s.Read(frame) }()
				time.Sleep(5 * time.Millisecond)
				s.Close()
				if err := <-errc; !errors.Is(err, ErrClosed) {
					t.Errorf("Read: got %v, want ErrClosed", err)
				}
				if err := s.Read(frame); !errors.Is(err, ErrClosed) {
					t.Errorf("Read after Close: got %v, want ErrClosed", err)
				}
			})
		})
	}
}
