// Command soitto is the Soitto desktop app: peer-to-peer calls, chat and
// file transfer, in a Fyne window.
//
//	soitto [--profile DIR] [--network FILE] [-v]
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"soitto/app"
	"soitto/assets"
	"soitto/ui"
)

// appID is the ID in FyneApp.toml; it names the app's settings folder and
// its desktop entry.
const appID = "org.soitto.Soitto"

const usage = `soitto is the Soitto desktop app: peer-to-peer calls, chat and file transfer.

Usage:
  soitto [--profile DIR] [--network FILE] [-v]

Flags:
`

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("soitto", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := app.AddFlags(fs)
	verbose := fs.Bool("v", false, "log debug detail to stderr")
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "soitto: unexpected argument %q; see --help\n", fs.Arg(0))
		return 2
	}

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(log)

	cfg.Logger = log
	cfg.Ringtone = assets.Ringtone
	c, err := app.New(*cfg)
	if err != nil {
		fmt.Fprintf(stderr, "soitto: %v\n", err)
		return 1
	}

	a := fyneapp.NewWithID(appID)
	if a.Metadata().Name == "" {
		// Built with plain "go build" and run away from FyneApp.toml:
		// give Fyne what packaging would have.
		fyneapp.SetMetadata(fyne.AppMetadata{
			ID: appID, Name: "Soitto", Version: "0.1.0", Build: 1,
			Icon:       assets.Icon,
			Migrations: map[string]bool{"fyneDo": true},
		})
	}
	a.SetIcon(assets.Icon)
	w := a.NewWindow("Soitto")
	w.Resize(fyne.NewSize(420, 640))
	w.SetMaster()
	u := ui.New(a, w, c)
	w.ShowAndRun()
	u.Close()
	c.Logout()
	return 0
}
