package audio

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestWAVRoundTrip: what WriteWAVFile writes, ReadWAVFile and OpenWAV
// give back sample for sample.
func TestWAVRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	want := make([]int16, 5*FrameSamples+123)
	for i := range want {
		want[i] = int16(rng.IntN(65536) - 32768)
	}
	want[0], want[1] = -32768, 32767
	path := filepath.Join(t.TempDir(), "round.wav")
	if err := WriteWAVFile(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadWAVFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("ReadWAVFile: got %d samples, want the %d written", len(got), len(want))
	}

	s, err := OpenWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetPaced(false)
	if s.Samples() != int64(len(want)) || s.Format() != (WAVFormat{Rate: SampleRate, Channels: 1, Bits: 16}) {
		t.Errorf("got %d samples of %v, want %d of 48000 Hz, 1 ch, 16-bit", s.Samples(), s.Format(), len(want))
	}
	var read []int16
	frame := make([]int16, FrameSamples)
	for {
		err := s.Read(frame)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		read = append(read, frame...)
	}
	if len(read) != 6*FrameSamples || !slices.Equal(read[:len(want)], want) {
		t.Fatalf("Read: got %d samples, want the %d written padded to 6 frames", len(read), len(want))
	}
	for _, v := range read[len(want):] {
		if v != 0 {
			t.Fatal("padding of the last frame is not silence")
		}
	}
	if err := s.Read(frame); err != io.EOF {
		t.Errorf("Read after the end: got %v, want io.EOF", err)
	}
	s.Close()
	if err := s.Read(frame); !errors.Is(err, ErrClosed) {
		t.Errorf("Read after Close: got %v, want ErrClosed", err)
	}
}

// TestWAVFormats: every kind of file decodes to a 48 kHz mono sine of
// the right length, frequency and level.
func TestWAVFormats(t *testing.T) {
	const hz, amp, seconds = 1000.0, 0.5, 0.5
	for _, tc := range []struct {
		f          WAVFormat
		extensible bool
	}{
		{WAVFormat{Rate: 48000, Channels: 1, Bits: 16}, false},
		{WAVFormat{Rate: 22050, Channels: 2, Bits: 16}, false},
		{WAVFormat{Rate: 44100, Channels: 2, Bits: 24}, true},
		{WAVFormat{Rate: 8000, Channels: 1, Bits: 8}, false},
		{WAVFormat{Rate: 16000, Channels: 1, Bits: 32}, false},
		{WAVFormat{Rate: 96000, Channels: 6, Bits: 32, Float: true}, true},
		{WAVFormat{Rate: 192000, Channels: 1, Bits: 64, Float: true}, false},
		{WAVFormat{Rate: 11025, Channels: 3, Bits: 16}, true},
	} {
		t.Run(tc.f.String(), func(t *testing.T) {
			n := int(seconds * float64(tc.f.Rate))
			chans := make([][]float64, tc.f.Channels)
			for c := range chans {
				chans[c] = sineAt(n, tc.f.Rate, hz, amp)
			}
			got, f, err := DecodeWAV(bytes.NewReader(encodeWAV(t, tc.f, tc.extensible, chans...)))
			if err != nil {
				t.Fatal(err)
			}
			if f != tc.f {
				t.Errorf("format: got %v, want %v", f, tc.f)
			}
			if want := (n*SampleRate + tc.f.Rate - 1) / tc.f.Rate; len(got) != want {
				t.Errorf("got %d samples, want %d", len(got), want)
			}
			mid := got[len(got)/4 : 3*len(got)/4]
			if r, want := rms(mid), amp*32767/1.4142; r < 0.97*want || r > 1.03*want {
				t.Errorf("rms: got %.0f, want %.0f", r, want)
			}
			on := goertzel(mid, hz)
			for _, off := range []float64{hz * 0.9, hz * 1.1, hz * 2} {
				if d := dB(on, goertzel(mid, off)); d < 30 {
					t.Errorf("%v Hz is only %.1f dB above %v Hz", hz, d, off)
				}
			}
		})
	}
}

// TestWAVDownmix: channels are averaged.
func TestWAVDownmix(t *testing.T) {
	a := sineAt(4800, 48000, 440, 0.5)
	neg := make([]float64, len(a))
	for i, v := range a {
		neg[i] = -v
	}
	f := WAVFormat{Rate: 48000, Channels: 2, Bits: 16}
	got, _, err := DecodeWAV(bytes.NewReader(encodeWAV(t, f, false, a, neg)))
	if err != nil {
		t.Fatal(err)
	}
	if r := rms(got); r != 0 {
		t.Errorf("opposite channels: got rms %.1f, want 0", r)
	}
}

// TestWAVAntiAlias: a tone above 24 kHz in a 192 kHz file is filtered
// out, not folded into what can be heard.
func TestWAVAntiAlias(t *testing.T) {
	f := WAVFormat{Rate: 192000, Channels: 1, Bits: 16}
	got, _, err := DecodeWAV(bytes.NewReader(encodeWAV(t, f, false, sineAt(96000, 192000, 30000, 0.5))))
	if err != nil {
		t.Fatal(err)
	}
	if r := rms(got[1000 : len(got)-1000]); r > 30 {
		t.Errorf("30 kHz tone: got rms %.1f after resampling to 48 kHz, want near 0", r)
	}
}

// TestWAVErrors: what is not a playable WAV file is refused with a
// one-line reason.
func TestWAVErrors(t *testing.T) {
	good := encodeWAV(t, WAVFormat{Rate: 16000, Channels: 1, Bits: 16}, false, sineAt(1000, 16000, 440, 0.5))
	fmtc := func(mod func(b []byte)) []byte {
		b := bytes.Clone(good[20:36])
		mod(b)
		return b
	}
	set16 := func(off int, v uint16) func([]byte) { return func(b []byte) { b[off], b[off+1] = byte(v), byte(v>>8) } }
	set32 := func(off int, v uint32) func([]byte) {
		return func(b []byte) { b[off], b[off+1], b[off+2], b[off+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24) }
	}
	data := chunk("data", make([]byte, 100))
	for _, tc := range []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "not a WAV file (no RIFF header)"},
		{"text", []byte("hello, world, this is not sound"), "not a WAV file (no RIFF header)"},
		{"avi", append([]byte("RIFF\x04\x00\x00\x00AVI "), data...), "not a WAV file (RIFF but not WAVE)"},
		{"no fmt", riff(data[:8]), "data chunk before fmt chunk"},
		{"only header", riff(), "not a WAV file (no fmt chunk)"},
		{"no data", riff(chunk("fmt ", good[20:36])), "no data chunk"},
		{"short fmt", riff(chunk("fmt ", good[20:30]), data), "fmt chunk of 10 bytes, want at least 16"},
		{"huge chunk", riff([]byte("JUNK\x00\x00\x20\x00")), `"JUNK" chunk of 2097152 bytes is over the 1 MiB limit`},
		{"cut chunk", riff([]byte("JUNK\x00\x01\x00\x00abc")), `truncated "JUNK" chunk`},
		{"adpcm", riff(chunk("fmt ", fmtc(set16(0, 2))), data), "unsupported encoding 0x2 (want PCM or float)"},
		{"12-bit", riff(chunk("fmt ", fmtc(set16(14, 12))), data), "unsupported 12-bit samples"},
		{"no channels", riff(chunk("fmt ", fmtc(set16(2, 0))), data), "0 channels, want 1..32"},
		{"many channels", riff(chunk("fmt ", fmtc(set16(2, 1000))), data), "1000 channels, want 1..32"},
		{"slow", riff(chunk("fmt ", fmtc(set32(4, 4000))), data), "sample rate 4000 Hz, want 8000..192000"},
		{"fast", riff(chunk("fmt ", fmtc(set32(4, 1<<31))), data), "sample rate 2147483648 Hz, want 8000..192000"},
		{"align", riff(chunk("fmt ", fmtc(set16(12, 4))), data), "block align 4, want 2 for 16000 Hz, 1 ch, 16-bit"},
		{"bad extensible", riff(chunk("fmt ", append(fmtc(set16(0, wavExtensible)), make([]byte, 24)...)), data), "extensible fmt chunk without a known sub-format"},
		{"cut data", good[:len(good)-10], "truncated data chunk"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := DecodeWAV(bytes.NewReader(tc.file))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("DecodeWAV: got %v, want %q", err, tc.want)
			}
			path := filepath.Join(t.TempDir(), "bad.wav")
			if err := os.WriteFile(path, tc.file, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err = OpenWAV(path)
			if tc.name == "cut data" {
				tc.want = "truncated (data chunk of"
			}
			if err == nil || !strings.HasPrefix(err.Error(), "audio: "+path+": "+tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("OpenWAV: got %v, want one line starting %q", err, "audio: "+path+": "+tc.want)
			}
		})
	}
}

// TestWAVStreamed: a data chunk of unknown size (0xFFFFFFFF, from a
// writer that could not seek back) runs to the end of the file.
func TestWAVStreamed(t *testing.T) {
	b := encodeWAV(t, WAVFormat{Rate: 48000, Channels: 1, Bits: 16}, false, sineAt(960, 48000, 440, 0.5))
	i := bytes.Index(b, []byte("data"))
	copy(b[i+4:], "\xff\xff\xff\xff")
	path := filepath.Join(t.TempDir(), "streamed.wav")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadWAVFile(path)
	if err != nil || len(got) != 960 {
		t.Fatalf("got %d samples, %v; want 960", len(got), err)
	}
}

// TestWAVSink: the file appears under its name only once closed, and
// replaces what was there.
func TestWAVSink(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.wav")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := CreateWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	frame := make([]int16, FrameSamples)
	frame[7] = 1234
	for range 3 {
		if err := s.Write(frame); err != nil {
			t.Fatal(err)
		}
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Error("the file changed before Close")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(frame); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close: got %v, want ErrClosed", err)
	}
	got, err := ReadWAVFile(path)
	if err != nil || len(got) != 3*FrameSamples || got[FrameSamples+7] != 1234 {
		t.Fatalf("got %d samples, %v; want the 3 frames written", len(got), err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("got %d files in the folder, want only out.wav", len(ents))
	}
	if _, err := CreateWAV(filepath.Join(dir, "missing", "x.wav")); err == nil {
		t.Error("CreateWAV in a missing folder: got no error")
	}
}

// TestWAV22050: a 22050 Hz file plays as long as it lasts, and a sine
// in it keeps its frequency (counted by zero crossings).
func TestWAV22050(t *testing.T) {
	path := filepath.Join(t.TempDir(), "22050.wav")
	f := WAVFormat{Rate: 22050, Channels: 1, Bits: 16}
	if err := os.WriteFile(path, encodeWAV(t, f, false, sineAt(22050, 22050, 440, 0.5)), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := OpenWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s.Duration() != time.Second || s.Samples() != SampleRate {
		t.Errorf("got %v (%d samples), want 1s (48000)", s.Duration(), s.Samples())
	}
	got, err := ReadWAVFile(path)
	if err != nil {
		t.Fatal(err)
	}
	crossings := 0
	for i := 1; i < len(got); i++ {
		if (got[i-1] < 0) != (got[i] < 0) {
			crossings++
		}
	}
	if hz := float64(crossings) / 2; hz < 439 || hz > 441 {
		t.Errorf("got %.1f Hz, want 440", hz)
	}
}
