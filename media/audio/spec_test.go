package audio

import (
	"path/filepath"
	"testing"
)

// TestOpenSpec: the command line's names open the right kinds, and
// anything else is refused with what would have worked.
func TestOpenSpec(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.WAV")
	if err := WriteWAVFile(in, make([]int16, FrameSamples)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		spec string
		want string // error; "" for none
	}{
		{in, ""},
		{"tone:440", ""},
		{"tone:20", ""},
		{"tone:20000", ""},
		{"silence", ""},
		{"tone:19", `audio: source "tone:19": want tone:HZ with HZ from 20 to 20000`},
		{"tone:NaN", `audio: source "tone:NaN": want tone:HZ with HZ from 20 to 20000`},
		{"tone:", `audio: source "tone:": want tone:HZ with HZ from 20 to 20000`},
		{"foo", `audio: source "foo": want FILE.wav, tone:HZ, silence or default`},
		{"", `audio: source "": want FILE.wav, tone:HZ, silence or default`},
		{".wav", `audio: source ".wav": want FILE.wav, tone:HZ, silence or default`},
		{filepath.Join(dir, "missing.wav"), "audio: open " + filepath.Join(dir, "missing.wav") + ": no such file or directory"},
	} {
		t.Run("source "+tc.spec, func(t *testing.T) {
			src, err := OpenSource(tc.spec)
			if err == nil {
				src.Close()
			}
			if got := errString(err); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		spec string
		want string
	}{
		{filepath.Join(dir, "out.wav"), ""},
		{"null", ""},
		{"silence", `audio: sink "silence": want FILE.wav, null or default`},
		{"tone:440", `audio: sink "tone:440": want FILE.wav, null or default`},
	} {
		t.Run("sink "+tc.spec, func(t *testing.T) {
			sink, err := OpenSink(tc.spec)
			if err == nil {
				sink.Close()
			}
			if got := errString(err); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
