//go:build cgo

package audio

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"soitto/media/audio/audiotest"
)

// room simulates the far end's sound coming back through a room: the
// microphone hears it delayed by 30 ms at half its level, plus a little
// noise, plus near (the local talker; nil for none).
func room(far, near []int16) []int16 {
	const delay = 30 * SampleRate / 1000
	rng := rand.New(rand.NewPCG(3, 4))
	mic := make([]int16, len(far))
	for i := range mic {
		v := rng.NormFloat64() * 30
		if i >= delay {
			v += 0.5 * float64(far[i-delay])
		}
		if near != nil {
			v += float64(near[i])
		}
		mic[i] = toInt16(v)
	}
	return mic
}

// cancel runs far (played) and mic (heard) through ec frame by frame,
// as a call would, and returns what it sends.
func cancel(ec *EchoCanceller, far, mic []int16) []int16 {
	out := make([]int16, len(mic))
	for off := 0; off+FrameSamples <= len(mic); off += FrameSamples {
		ec.Playback(far[off : off+FrameSamples])
		ec.Capture(mic[off:off+FrameSamples], out[off:off+FrameSamples])
	}
	return out
}

// noiseLike is seconds of speech-shaped noise: white noise through a
// gentle low-pass, in bursts like syllables, so that it excites the
// whole band as speech does.
func noiseLike(seconds float64, seed uint64) []int16 {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([]int16, int(seconds*SampleRate))
	var lp float64
	for i := range out {
		lp = 0.7*lp + 0.3*rng.NormFloat64()
		env := 0.3
		if (i/(SampleRate/5))%3 != 2 { // 200 ms on, on, off
			env = 1
		}
		out[i] = toInt16(6000 * env * lp)
	}
	return out
}

// TestEchoCancels: after 7 s of adapting, the echo of the far end is
// at least 10 dB quieter in what is sent than in the microphone (ERLE).
func TestEchoCancels(t *testing.T) {
	for _, tc := range []struct {
		name string
		far  []int16
		opts EchoOptions
	}{
		{"noise", noiseLike(10, 1), EchoOptions{}},
		{"noise denoised", noiseLike(10, 1), EchoOptions{Denoise: true}},
		{"voice", audiotest.VoiceLike(10), EchoOptions{}},
		{"voice denoised", audiotest.VoiceLike(10), EchoOptions{Denoise: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ec, err := NewEchoCanceller(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer ec.Close()
			mic := room(tc.far, nil)
			out := cancel(ec, tc.far, mic)
			last := len(mic) - 3*SampleRate
			erle := dB(energy(mic[last:]), energy(out[last:]))
			t.Logf("ERLE over the last 3 s: %.1f dB", erle)
			if erle < 10 {
				t.Errorf("ERLE: got %.1f dB, want 10 or more", erle)
			}
		})
	}
}

// TestEchoKeepsNearEnd: with nothing played, the local talker goes
// through (denoise off: not suppressed as if it were echo).
func TestEchoKeepsNearEnd(t *testing.T) {
	ec, err := NewEchoCanceller(EchoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	near := audiotest.VoiceLike(5)
	silent := make([]int16, len(near))
	mic := room(silent, near)
	out := cancel(ec, silent, mic)
	kept := energy(out) / energy(mic)
	t.Logf("near end kept %.0f%% of its energy", 100*kept)
	if kept < 0.25 {
		t.Errorf("got %.0f%% of the near end's energy, want 25%% or more", 100*kept)
	}
}

// TestEchoDoubleTalk: once the filter has converged, a local talker
// who speaks over the far end is sent clearly, the echo under it. What
// is sent is compared with what the same talker gives alone, so that
// the canceller's own filtering (a DC notch) does not count as echo.
func TestEchoDoubleTalk(t *testing.T) {
	for _, opts := range []EchoOptions{{}, {Denoise: true}} {
		t.Run(fmt.Sprintf("denoise %v", opts.Denoise), func(t *testing.T) {
			run := func(far, near []int16) []int16 {
				ec, err := NewEchoCanceller(opts)
				if err != nil {
					t.Fatal(err)
				}
				defer ec.Close()
				return cancel(ec, far, room(far, near))
			}
			far := noiseLike(13, 11)
			near := make([]int16, len(far))
			start := 10 * SampleRate
			copy(near[start:], audiotest.VoiceLike(3))
			both := run(far, near)
			alone := run(make([]int16, len(far)), near)
			var residual float64
			for i := start; i < len(both); i++ {
				d := float64(both[i]) - float64(alone[i])
				residual += d * d
			}
			snr := dB(energy(alone[start:]), residual)
			t.Logf("double talk: the near end is %.1f dB above the echo left", snr)
			if snr < 10 {
				t.Errorf("double talk: got the near end %.1f dB above the echo left, want 10 or more", snr)
			}
		})
	}
}

// TestEchoOptions: the tail is bounded; a closed canceller passes sound
// through.
func TestEchoOptions(t *testing.T) {
	for _, tail := range []time.Duration{time.Millisecond, 2 * time.Second} {
		if _, err := NewEchoCanceller(EchoOptions{TailLength: tail}); err == nil {
			t.Errorf("tail %v: got no error", tail)
		}
	}
	ec, err := NewEchoCanceller(EchoOptions{TailLength: 100 * time.Millisecond, Denoise: true, AGC: true})
	if err != nil {
		t.Fatal(err)
	}
	ec.Close()
	mic := noiseLike(0.02, 5)
	out := make([]int16, FrameSamples)
	ec.Capture(mic, out)
	if !slices.Equal(mic, out) {
		t.Error("closed canceller changed the sound")
	}
}

// fakeMic gives frames of a slice; fakeSpeaker keeps what it is given.
type fakeMic struct {
	pcm    []int16
	closed bool
}

func (m *fakeMic) Read(frame []int16) error {
	if len(m.pcm) < FrameSamples {
		return errors.New("fakeMic: done")
	}
	copy(frame, m.pcm)
	m.pcm = m.pcm[FrameSamples:]
	return nil
}

func (m *fakeMic) Close() error { m.closed = true; return nil }

type fakeSpeaker struct {
	got    []int16
	closed bool
}

func (s *fakeSpeaker) Write(frame []int16) error { s.got = append(s.got, frame...); return nil }
func (s *fakeSpeaker) Close() error              { s.closed = true; return nil }

// TestWithEcho: the wrapped speaker plays and feeds the canceller, the
// wrapped microphone hears through it, and Close reaches both devices.
func TestWithEcho(t *testing.T) {
	far := noiseLike(8, 7)
	fm := &fakeMic{pcm: room(far, nil)}
	fs := &fakeSpeaker{}
	src, sink, ec, err := WithEcho(fm, fs, EchoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	var heard, sent []int16
	frame := make([]int16, FrameSamples)
	for off := 0; off+FrameSamples <= len(far); off += FrameSamples {
		if err := sink.Write(far[off : off+FrameSamples]); err != nil {
			t.Fatal(err)
		}
		heard = append(heard, fm.pcm[:FrameSamples]...)
		if err := src.Read(frame); err != nil {
			t.Fatal(err)
		}
		sent = append(sent, frame...)
	}
	if !slices.Equal(fs.got, far[:len(fs.got)]) || len(fs.got) < len(far)-FrameSamples {
		t.Error("the speaker did not get what was written")
	}
	last := len(sent) - 2*SampleRate
	if erle := dB(energy(heard[last:]), energy(sent[last:])); erle < 10 {
		t.Errorf("ERLE through WithEcho: got %.1f dB, want 10 or more", erle)
	}
	src.Close()
	sink.Close()
	if !fm.closed || !fs.closed {
		t.Errorf("closed: mic %v, speaker %v; want both", fm.closed, fs.closed)
	}
}

// BenchmarkEchoCapture is the cost of one 20 ms frame through the
// canceller, alone and with the preprocessor's denoiser.
func BenchmarkEchoCapture(b *testing.B) {
	for _, opts := range []EchoOptions{{}, {Denoise: true}} {
		b.Run(fmt.Sprintf("denoise=%v", opts.Denoise), func(b *testing.B) {
			ec, err := NewEchoCanceller(opts)
			if err != nil {
				b.Fatal(err)
			}
			defer ec.Close()
			far := noiseLike(2, 9)
			mic := room(far, nil)
			out := make([]int16, FrameSamples)
			frames := len(far) / FrameSamples
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				off := (i % frames) * FrameSamples
				ec.Playback(far[off : off+FrameSamples])
				ec.Capture(mic[off:off+FrameSamples], out)
			}
		})
	}
}
