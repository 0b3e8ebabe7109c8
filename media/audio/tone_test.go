package audio

import (
	"errors"
	"math"
	"testing"
)

// TestTone: a tone is its frequency at 0.3 of full scale, unbroken
// from frame to frame.
func TestTone(t *testing.T) {
	src := NewTone(1000)
	defer src.Close()
	src.(*tone).SetPaced(false)
	var got []int16
	frame := make([]int16, FrameSamples)
	for range 50 {
		if err := src.Read(frame); err != nil {
			t.Fatal(err)
		}
		got = append(got, frame...)
	}
	if r, want := rms(got), 0.3*32767/math.Sqrt2; math.Abs(r-want) > 10 {
		t.Errorf("rms: got %.0f, want %.0f", r, want)
	}
	on := goertzel(got, 1000)
	for _, off := range []float64{500, 990, 1010, 2000} {
		if d := dB(on, goertzel(got, off)); d < 40 {
			t.Errorf("1000 Hz only %.1f dB above %v Hz", d, off)
		}
	}
	if err := src.Read(make([]int16, 10)); err == nil {
		t.Error("Read of a 10-sample frame: got no error")
	}
}

// TestSilenceAndNull: silence is zeros; Null takes anything until
// closed.
func TestSilenceAndNull(t *testing.T) {
	src := Silence()
	src.(*tone).SetPaced(false)
	frame := make([]int16, FrameSamples)
	for i := range frame {
		frame[i] = 7
	}
	if err := src.Read(frame); err != nil || energy(frame) != 0 {
		t.Errorf("got energy %v, %v; want silence", energy(frame), err)
	}
	src.Close()

	sink := Null()
	if err := sink.Write(frame); err != nil {
		t.Fatal(err)
	}
	sink.Close()
	if err := sink.Write(frame); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close: got %v, want ErrClosed", err)
	}
}
