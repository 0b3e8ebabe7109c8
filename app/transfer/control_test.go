package transfer

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testID = "0123456789abcdef0123456789abcdef"

func TestDecodeControlRefusals(t *testing.T) {
	h := strings.Repeat("ab", 32)
	ok := `{"file":"offer","id":"` + testID + `","name":"a.txt","size":5,"sha256":"` + h + `","chunk":65536,"root":"` + h + `"}`
	if _, err := DecodeControl([]byte(ok)); err != nil {
		t.Fatalf("valid offer refused: %v", err)
	}
	tests := []struct{ name, msg, want string }{
		{"too large", `{"file":"accept","id":"` + testID + `","x":"` + strings.Repeat("a", MaxControl) + `"}`, "limit"},
		{"unknown field", `{"file":"accept","id":"` + testID + `","x":1}`, "unknown field"},
		{"unknown kind", `{"file":"steal","id":"` + testID + `"}`, "unknown control kind"},
		{"bad id", `{"file":"accept","id":"XYZ"}`, "not 32 lowercase hex"},
		{"path in name", strings.Replace(ok, "a.txt", "../a.txt", 1), "path separator"},
		{"dot dot", strings.Replace(ok, "a.txt", "..", 1), "not a file name"},
		{"control char", strings.Replace(ok, "a.txt", `a\u0007.txt`, 1), "control character"},
		{"short hash", strings.Replace(ok, `"sha256":"`+h, `"sha256":"ab`, 1), "64 lowercase hex"},
		{"long hash", strings.Replace(ok, `"sha256":"`+h, `"sha256":"`+h+"ab", 1), "64 lowercase hex"},
		{"tiny chunk", strings.Replace(ok, "65536", "100", 1), "chunk size"},
		{"negative size", strings.Replace(ok, `"size":5`, `"size":-5`, 1), "offer size"},
		{"huge", strings.Replace(ok, `"size":5`, `"size":68719476737`, 1), "offer size"},
		{"accept with name", `{"file":"accept","id":"` + testID + `","name":"x"}`, "offer fields"},
		{"two lines", `{"file":"cancel","id":"` + testID + `","reason":"a\nb"}`, "one line"},
		{"trailing", `{"file":"accept","id":"` + testID + `"}{}`, "after the object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeControl([]byte(tt.msg))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestDecodeFrameRefusals(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"too large", append([]byte{frameData}, make([]byte, MaxFrame)...)},
		{"unknown", []byte{'Z', 0, 0, 0, 0, 0, 0, 0, 0}},
		{"short req", []byte{frameReq, 0, 0}},
		{"empty req", encodePair(frameReq, 4, 4)},
		{"no hashes", encodePair(frameList, 4, 0)},
		{"ragged hashes", append([]byte{frameHashes, 0, 0, 0, 0}, make([]byte, 33)...)},
		{"short data", []byte{frameData, 0, 0, 0}},
	}
	for _, tt := range tests {
		if _, err := decodeFrame(tt.b); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
	f, err := decodeFrame(append(encodePair(frameData, 7, 1024), 'x'))
	if err != nil || f.A != 7 || f.B != 1024 || string(f.Payload) != "x" {
		t.Errorf("data frame: got %+v, %v", f, err)
	}
}

func TestPlaceNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a.txt", "a (1).txt", ".bashrc"} {
		os.WriteFile(filepath.Join(dir, n), []byte("old"), 0o600)
	}
	for _, tt := range []struct{ name, want string }{
		{"a.txt", "a (2).txt"},
		{".bashrc", ".bashrc (1)"},
		{"new.txt", "new.txt"},
	} {
		part := filepath.Join(dir, ".part")
		os.WriteFile(part, []byte("new"), 0o600)
		got, err := place(part, dir, tt.name)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(got) != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, filepath.Base(got), tt.want)
		}
		if _, err := os.Stat(part); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("part file still there")
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a.txt")); string(b) != "old" {
		t.Errorf("a.txt overwritten")
	}
}

func TestStateRefusals(t *testing.T) {
	for _, b := range []string{
		`{}`,
		`{"v":2}`,
		`{"v":1,"user":"bob","offer":{"file":"accept","id":"` + testID + `"},"dir":"/x","have":"","hashed":0,"fileHash":""}`,
	} {
		if _, err := decodeInState([]byte(b)); err == nil {
			t.Errorf("in state %s accepted", b)
		}
		if _, err := decodeOutState([]byte(b)); err == nil {
			t.Errorf("out state %s accepted", b)
		}
	}
	if _, err := decodeInState(make([]byte, MaxState+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("got %v, want ErrTooLarge", err)
	}
}
