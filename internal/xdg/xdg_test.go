package xdg

import (
	"path/filepath"
	"runtime"
	"testing"
)

func TestDataDirHonoursXDG(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("XDG_DATA_HOME applies on Linux")
	}
	t.Setenv("XDG_DATA_HOME", "/x/data")
	got, err := DataDir()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join("/x/data", AppName); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	t.Setenv("XDG_DATA_HOME", "relative")
	t.Setenv("HOME", "/home/u")
	got, _ = DataDir()
	if want := "/home/u/.local/share/soitto"; got != want {
		t.Fatalf("got %q, want %q (a relative XDG_DATA_HOME is ignored per the spec)", got, want)
	}
}
