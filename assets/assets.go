// Package assets holds the files Soitto embeds in its binary: the app icon
// and the ringtone. Only the window (ui/ and main.go) imports it, so
// the Fyne resource type here never reaches the client core or the servers.
package assets

import (
	_ "embed"

	"fyne.io/fyne/v2"
)

// iconPNG is the 512×512 app icon; FyneApp.toml points fyne package at the
// same file.
//
//go:embed icon.png
var iconPNG []byte

// Ringtone is what an incoming call plays while it rings: a short
// three-note chime and a second of quiet, 16 kHz mono.
//
//go:embed ring.wav
var Ringtone []byte

// Icon is the app icon, for the window, the taskbar and the sign-in screen.
var Icon fyne.Resource = fyne.NewStaticResource("soitto.png", iconPNG)
