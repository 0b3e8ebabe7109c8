package ui

import (
	"bytes"
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"soitto/app"
	"soitto/app/transfer"
)

// fileRowNamed is the pane's row of the file called name, or nil.
func fileRowNamed(p *chatPane, name string) *fileRow {
	for _, o := range p.column.Objects {
		if r, ok := o.(*fileRow); ok && r.e != nil && r.e.info.Name == name {
			return r
		}
	}
	return nil
}

func writeRandom(t *testing.T, path string, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return b
}

// Files in the window on a real network: bob offers one while the pane
// is open (the prompt is in the pane; accepting asks for a folder, the
// file arrives there and the row says Saved, with Open folder); another
// while it is closed (a dialog; declining writes nothing); and alice
// sends one from the pane.
func TestFileWindow(t *testing.T) {
	checkGoroutines(t)
	h, bob, events := chatPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	inbox := t.TempDir()
	var folderAsked string
	h.ui.pickFolder = func(start string, done func(string)) {
		folderAsked = start
		done(inbox)
	}
	var opened []*url.URL
	h.ui.openURL = func(u *url.URL) error {
		opened = append(opened, u)
		return nil
	}
	h.ui.openChat("bob")
	p := h.ui.chat

	// The offer, in the open pane.
	src := t.TempDir()
	want := writeRandom(t, filepath.Join(src, "photos-saturday.zip"), 3<<20)
	sent := make(chan error, 1)
	go func() {
		_, err := bob.SendFile(ctx, "alice", filepath.Join(src, "photos-saturday.zip"))
		sent <- err
	}()
	var row *fileRow
	h.loop.until(t, "the offer in the pane", func() bool {
		row = fileRowNamed(p, "photos-saturday.zip")
		return row != nil && row.accept.Visible()
	})
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if got := richText(row.detail); got != "3.1 MB" {
		t.Errorf("offer size %q, want 3.1 MB", got)
	}
	if got := row.statusText(); got != "bob wants to send you this file" || !row.decline.Visible() || row.own() {
		t.Errorf("offer row %q, decline shown %v, own %v", got, row.decline.Visible(), row.own())
	}
	if len(h.ui.offers) != 0 {
		t.Error("a dialog too, with the pane open")
	}
	h.snap(t, "file-offer")
	wantFolder := h.ui.downloadFolder()
	test.Tap(row.accept)
	if folderAsked != wantFolder || folderAsked == "" {
		t.Errorf("folder dialog opened at %q, want %q", folderAsked, wantFolder)
	}
	var statuses []string
	h.loop.until(t, "the file saved", func() bool {
		if s := row.statusText(); len(statuses) == 0 || statuses[len(statuses)-1] != s {
			statuses = append(statuses, s)
		}
		return strings.HasPrefix(row.statusText(), "Saved")
	})
	t.Logf("statuses: %q", statuses)
	got, err := os.ReadFile(filepath.Join(inbox, "photos-saturday.zip"))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("the file in the folder: %d bytes, %v; want the %d sent", len(got), err, len(want))
	}
	if !row.open.Visible() || row.cancel.Visible() || row.bar.Visible() {
		t.Errorf("done row: open shown %v, cancel %v, bar %v", row.open.Visible(), row.cancel.Visible(), row.bar.Visible())
	}
	test.Tap(row.open)
	if len(opened) != 1 || opened[0].Scheme != "file" || opened[0].Path != inbox {
		t.Errorf("opened %v, want file://%s", opened, inbox)
	}

	// alice sends one from the pane; bob takes it.
	bobInbox := t.TempDir()
	bob.SetAcceptFiles(bobInbox)
	writeRandom(t, filepath.Join(src, "notes.txt"), 200<<10)
	h.ui.pickFile = func(done func(string)) { done(filepath.Join(src, "notes.txt")) }
	test.Tap(p.attach)
	h.loop.until(t, "alice's file sent", func() bool {
		r := fileRowNamed(p, "notes.txt")
		return r != nil && r.statusText() == "Sent" && r.own()
	})
	if _, err := os.Stat(filepath.Join(bobInbox, "notes.txt")); err != nil {
		t.Errorf("bob has no notes.txt: %v", err)
	}
	if os.Getenv("SOITTO_SCREENSHOTS") != "" {
		// A big one, seen under way, then cancelled.
		writeRandom(t, filepath.Join(src, "holiday-video.mp4"), 600<<20)
		go func() {
			_, err := bob.SendFile(ctx, "alice", filepath.Join(src, "holiday-video.mp4"))
			sent <- err
		}()
		var big *fileRow
		h.loop.until(t, "the big offer", func() bool {
			big = fileRowNamed(p, "holiday-video.mp4")
			return big != nil && big.accept.Visible()
		})
		if err := <-sent; err != nil {
			t.Fatal(err)
		}
		test.Tap(big.accept)
		h.loop.until(t, "the big file under way", func() bool {
			i := big.e.info
			return strings.Contains(big.statusText(), "left") && i.Done > i.Size/5
		})
		h.snap(t, "file")
		test.Tap(big.cancel)
		h.loop.until(t, "the big file cancelled", func() bool { return big.statusText() == "Cancelled" })
	}

	// The pane closed: a dialog asks; declined, nothing is written.
	bob.SetAcceptFiles("")
	test.Tap(p.back)
	writeRandom(t, filepath.Join(src, "budget.xlsx"), 40<<10)
	info, err := bob.SendFile(ctx, "alice", filepath.Join(src, "budget.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	var offer *offerPrompt
	h.loop.until(t, "the offer dialog", func() bool {
		offer = h.ui.offers[info.ID]
		return offer != nil
	})
	if offer.name != "budget.xlsx" || offer.size != "41.0 kB" || offer.user != "bob" {
		t.Errorf("dialog offers %q (%q) from %q", offer.name, offer.size, offer.user)
	}
	if h.ui.unread["bob"] != 1 {
		t.Errorf("unread %d after an offer", h.ui.unread["bob"])
	}
	h.snap(t, "file-dialog")
	test.Tap(offer.decline)
	waitEvent(t, events, "the offer declined", func(e app.Event) bool {
		fc, ok := e.(app.FileChanged)
		if !ok {
			return false
		}
		_, declined := fc.Event.(transfer.Declined)
		return declined && fc.Event.TransferInfo().ID == info.ID
	})
	h.loop.until(t, "the dialog gone", func() bool { return h.ui.offers[info.ID] == nil })
	entries, err := os.ReadDir(inbox)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "photos-saturday.zip" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("folder holds %v after declining, want only photos-saturday.zip", names)
	}
	h.ui.openChat("bob")
	h.loop.until(t, "the declined file in the pane", func() bool {
		r := fileRowNamed(p, "budget.xlsx")
		return r != nil && r.statusText() == "Declined"
	})
}

func TestFileTexts(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"}, {999, "999 B"}, {1000, "1.0 kB"}, {3 << 20, "3.1 MB"}, {123456789, "123 MB"}, {5e12, "5.0 TB"},
	} {
		if got := humanSize(c.n); got != c.want {
			t.Errorf("humanSize(%d) = %q, want %q", c.n, got, c.want)
		}
	}
	info := transfer.Info{Rate: 12.3e6, ETA: 42 * time.Second, State: transfer.StateActive}
	if got := rateText(info); got != "12.3 MB/s · 0:42 left" {
		t.Errorf("rate %q", got)
	}
	for _, c := range []struct {
		e    fileEntry
		want string
	}{
		{fileEntry{info: transfer.Info{User: "bob", State: transfer.StatePaused}}, "Waiting for bob…"},
		{fileEntry{info: transfer.Info{User: "bob", State: transfer.StateDeclined}}, "bob declined"},
		{fileEntry{info: transfer.Info{User: "bob", State: transfer.StateCancelled}, byPeer: true}, "bob cancelled"},
		{fileEntry{info: transfer.Info{User: "bob", State: transfer.StateFailed}, note: "disk full"}, "Failed: disk full"},
		{fileEntry{info: transfer.Info{User: "bob", State: transfer.StateDone, Incoming: true, Path: "/x/a (1).zip"}}, "Saved as a (1).zip"},
	} {
		if got := fileStatus(&c.e); got != c.want {
			t.Errorf("%+v: %q, want %q", c.e.info, got, c.want)
		}
	}
}
