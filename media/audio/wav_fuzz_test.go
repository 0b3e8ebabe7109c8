package audio

import (
	"bytes"
	"testing"
)

// FuzzWAV: no file makes the decoder panic, and what it decodes is no
// longer than the file could hold.
func FuzzWAV(f *testing.F) {
	for _, form := range []WAVFormat{
		{Rate: 48000, Channels: 1, Bits: 16},
		{Rate: 8000, Channels: 2, Bits: 8},
		{Rate: 44100, Channels: 1, Bits: 24},
		{Rate: 192000, Channels: 1, Bits: 32, Float: true},
	} {
		s := sineAt(100, form.Rate, 440, 0.5)
		chans := make([][]float64, form.Channels)
		for i := range chans {
			chans[i] = s
		}
		f.Add(encodeWAV(f, form, form.Bits == 24, chans...))
	}
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVE"))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, form, err := DecodeWAV(bytes.NewReader(b))
		if err != nil {
			return
		}
		// At most one output per input sample frame, times the ratio
		// of rates, plus one for the rounding up.
		frames := len(b) / form.blockAlign()
		if limit := frames*SampleRate/form.Rate + 1; len(out) > limit {
			t.Fatalf("%d samples from a %d-byte file of %v, want at most %d", len(out), len(b), form, limit)
		}
	})
}
