// Package xdg finds the per-user folders Soitto keeps its data and settings
// in, following the XDG base directory spec on Linux and the platform's
// conventions elsewhere.
package xdg

import (
	"os"
	"path/filepath"
	"runtime"
)

// AppName is the folder name used under the user's data and config folders.
const AppName = "soitto"

// DataDir returns the user's data folder for Soitto: $XDG_DATA_HOME/soitto,
// else ~/.local/share/soitto on Linux and the BSDs. On macOS and Windows,
// where the OS has no separate data folder, it is the config folder.
func DataDir() (string, error) {
	switch runtime.GOOS {
	case "darwin", "windows", "ios", "android":
		return ConfigDir()
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, AppName), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".local", "share", AppName), nil
}

// ConfigDir returns os.UserConfigDir()/soitto.
func ConfigDir() (string, error) {
	d, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, AppName), nil
}
