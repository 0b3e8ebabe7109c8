package ui

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"soitto/app/transfer"
)

// fileEntry is what the window knows of one file transfer. The client
// forgets a transfer once it ends, so the window keeps the end here.
type fileEntry struct {
	info   transfer.Info
	note   string    // why it paused, failed or was cancelled
	byPeer bool      // the other side cancelled
	seen   time.Time // when this window first saw it: its place in the conversation
	at     time.Time // when an event last changed it
	dir    string    // the folder it was accepted into
	// accepting: the user accepted; the Accepted event has not come yet.
	accepting bool
	// lost: it left the client's list with no final event seen (the
	// event bus dropped it).
	lost bool
	told bool // the home screen said it was saved
	// prompted: the offer's dialog was shown once; after that the pane
	// and the unread count on the buddy's row keep it.
	prompted bool
	// cancel stops a SendFile still preparing (a "local-" entry).
	cancel context.CancelFunc
}

// final tells whether the transfer is over.
func (e *fileEntry) final() bool {
	if e.lost {
		return true
	}
	switch e.info.State {
	case transfer.StateDone, transfer.StateFailed, transfer.StateDeclined, transfer.StateCancelled:
		return true
	}
	return false
}

// prefDownloads is the preference that keeps the folder files were last
// saved into.
const prefDownloads = "download-folder"

// fileEntry returns the entry for info, made if new.
func (u *UI) fileEntry(info transfer.Info) *fileEntry {
	e := u.files[info.ID]
	if e == nil {
		e = &fileEntry{seen: u.now()}
		u.files[info.ID] = e
	}
	return e
}

// fileChanged takes a transfer's event from the client.
func (u *UI) fileChanged(ev transfer.Event) {
	info := ev.TransferInfo()
	e := u.fileEntry(info)
	e.info, e.at, e.lost = info, time.Now(), false
	switch ev := ev.(type) {
	case transfer.Offered:
		e.info.State = transfer.StateOffered
	case transfer.Accepted:
		e.accepting = false
		e.info.State = transfer.StateActive
	case transfer.Paused:
		e.info.State = transfer.StatePaused
		e.note = errText(ev.Err)
	case transfer.Done:
		e.info.State = transfer.StateDone
		e.info.Done = e.info.Size
		if ev.Path != "" {
			e.info.Path = ev.Path
		}
	case transfer.Failed:
		e.info.State = transfer.StateFailed
		e.note = errText(ev.Err)
	case transfer.Declined:
		e.info.State = transfer.StateDeclined
	case transfer.Cancelled:
		e.info.State = transfer.StateCancelled
		e.byPeer, e.note = ev.ByPeer, ev.Reason
	}
	u.fileShown(e)
	if _, progress := ev.(transfer.Progress); !progress {
		u.syncTransfers()
	}
}

// fileShown redraws e where it is: in the pane, or as a prompt.
func (u *UI) fileShown(e *fileEntry) {
	user := e.info.User
	if o := u.offers[e.info.ID]; o != nil && (e.info.State != transfer.StateOffered || e.accepting) {
		o.dismiss()
	}
	if u.chat.user == user {
		u.chat.refreshFiles()
	}
	if u.chat.isOpen(user) {
		return
	}
	switch {
	case e.info.Incoming && e.info.State == transfer.StateOffered && !e.accepting && !e.prompted:
		e.prompted = true
		u.unread[user]++
		u.home.list.Refresh()
		u.showOffer(e)
	case e.info.Incoming && e.info.State == transfer.StateDone && !e.told:
		e.told = true
		u.home.notice("Saved " + e.info.Name + " from " + user)
	}
}

// syncTransfers reads the client's transfers again: events may have
// been dropped. One read at a time; a request during one runs after it.
func (u *UI) syncTransfers() {
	if u.syncing {
		u.syncAgain = true
		return
	}
	u.syncing = true
	u.async(func(context.Context) {
		at := time.Now()
		list := u.client.Transfers()
		u.post(func() {
			u.syncing = false
			u.applyTransfers(list, at)
			if u.syncAgain {
				u.syncAgain = false
				u.syncTransfers()
			}
		})
	})
}

// applyTransfers takes the client's list read at time at.
func (u *UI) applyTransfers(list []transfer.Info, at time.Time) {
	live := map[string]bool{}
	for _, info := range list {
		live[info.ID] = true
		e := u.fileEntry(info)
		if e.final() && !e.lost || e.at.After(at) {
			continue // an event told more, or later
		}
		accepting := e.accepting && info.State == transfer.StateOffered
		e.info, e.lost, e.accepting = info, false, accepting
		u.fileShown(e)
	}
	for id, e := range u.files {
		if live[id] || e.final() || e.cancel != nil || e.at.After(at) {
			continue
		}
		e.lost = true
		u.fileShown(e)
	}
}

// transfersActive tells whether a transfer is under way.
func (u *UI) transfersActive() bool {
	for _, e := range u.files {
		if !e.final() {
			return true
		}
	}
	return false
}

// sendFileTo asks for a file and offers it to user.
func (u *UI) sendFileTo(user string) {
	if user == "" {
		return
	}
	u.pickFile(func(path string) {
		if path == "" {
			return
		}
		u.localSeq++
		id := fmt.Sprintf("local-%d", u.localSeq)
		ctx, cancel := context.WithCancel(u.ctx)
		e := &fileEntry{seen: u.now(), at: time.Now(), cancel: cancel,
			info: transfer.Info{ID: id, User: user, Name: filepath.Base(path), State: transfer.StateHashing}}
		u.files[id] = e
		u.fileShown(e)
		u.async(func(context.Context) {
			defer cancel()
			info, err := u.client.SendFile(ctx, user, path)
			u.post(func() {
				e.cancel = nil
				if err != nil {
					e.info.State, e.at = transfer.StateFailed, time.Now()
					if ctx.Err() != nil {
						e.info.State, e.note = transfer.StateCancelled, ""
					} else {
						e.note = errText(err)
					}
					u.fileShown(e)
					return
				}
				delete(u.files, id)
				if u.chat.user == user {
					if r := u.chat.files[id]; r != nil {
						delete(u.chat.files, id)
						u.chat.files[info.ID] = r
					}
				}
				n := u.fileEntry(info)
				if n.at.IsZero() {
					n.info, n.at = info, time.Now()
				}
				n.seen = e.seen
				u.fileShown(n)
				u.syncTransfers()
			})
		})
	})
}

// acceptFile asks where to save transfer id and accepts it there.
func (u *UI) acceptFile(id string) {
	e := u.files[id]
	if e == nil {
		return
	}
	u.pickFolder(u.downloadFolder(), func(dir string) {
		if dir == "" {
			return
		}
		u.app.Preferences().SetString(prefDownloads, dir)
		e.dir, e.accepting, e.note = dir, true, ""
		u.fileShown(e)
		u.async(func(context.Context) {
			err := u.client.AcceptFile(id, dir)
			u.post(func() {
				if err != nil {
					e.accepting, e.note = false, "Could not accept: "+errText(err)
					u.fileShown(e)
				}
			})
		})
	})
}

// declineFile declines transfer id.
func (u *UI) declineFile(id string) {
	e := u.files[id]
	if e == nil {
		return
	}
	e.accepting = true // no second answer
	u.fileShown(e)
	u.async(func(context.Context) {
		err := u.client.DeclineFile(id)
		u.post(func() {
			e.accepting = false
			if err != nil {
				e.note = "Could not decline: " + errText(err)
			} else if e.info.State == transfer.StateOffered {
				e.info.State, e.at = transfer.StateDeclined, time.Now()
			}
			u.fileShown(e)
		})
	})
}

// cancelFile stops transfer id, either way.
func (u *UI) cancelFile(id string) {
	e := u.files[id]
	if e == nil {
		return
	}
	if e.cancel != nil {
		e.cancel()
		return
	}
	u.async(func(context.Context) {
		if err := u.client.CancelFile(id); err != nil {
			u.post(func() {
				e.note = "Could not cancel: " + errText(err)
				u.fileShown(e)
			})
		}
	})
}

// openFolder shows the folder a received file is in.
func (u *UI) openFolder(e *fileEntry) {
	dir := e.dir
	if e.info.Path != "" {
		dir = filepath.Dir(e.info.Path)
	}
	if dir == "" {
		return
	}
	link, err := url.Parse(storage.NewFileURI(dir).String())
	if err == nil {
		err = u.openURL(link)
	}
	if err != nil {
		u.home.warn("Cannot open " + dir + ": " + firstLine(err.Error()))
	}
}

// downloadFolder is where files are saved unless the user picks another
// folder: the last one chosen, else ~/Downloads if there is one, else
// the home folder.
func (u *UI) downloadFolder() string {
	if dir := u.app.Preferences().String(prefDownloads); dir != "" && isDir(dir) {
		return dir
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return os.TempDir()
	}
	if d := filepath.Join(home, "Downloads"); isDir(d) {
		return d
	}
	return home
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// pickFileDialog is the file chooser for sending: Fyne's file-open
// dialog, as big as the window allows.
func (u *UI) pickFileDialog(done func(path string)) {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		path := r.URI().Path()
		r.Close()
		done(path)
	}, u.win)
	d.SetConfirmText("Send")
	d.SetTitleText("Send a file")
	if l, err := storage.ListerForURI(storage.NewFileURI(u.homeFolder())); err == nil {
		d.SetLocation(l)
	}
	d.Resize(u.dialogSize())
	d.Show()
}

// pickFolderDialog is the folder chooser for saving, opened at start.
func (u *UI) pickFolderDialog(start string, done func(dir string)) {
	d := dialog.NewFolderOpen(func(l fyne.ListableURI, err error) {
		if err != nil || l == nil {
			return
		}
		done(l.Path())
	}, u.win)
	d.SetConfirmText("Save here")
	d.SetTitleText("Save the file in…")
	if l, err := storage.ListerForURI(storage.NewFileURI(start)); err == nil {
		d.SetLocation(l)
	}
	d.Resize(u.dialogSize())
	d.Show()
}

func (u *UI) homeFolder() string {
	if h, err := os.UserHomeDir(); err == nil {
		return h
	}
	return os.TempDir()
}

func (u *UI) dialogSize() fyne.Size {
	s := u.win.Canvas().Size()
	return fyne.NewSize(max(s.Width-24, 300), max(s.Height-24, 400))
}

// offerPrompt is the dialog of a file offered while its conversation is
// not open.
type offerPrompt struct {
	d               *dialog.CustomDialog
	id, user        string
	name, size      string
	accept, decline *widget.Button
}

func (o *offerPrompt) dismiss() {
	o.d.Hide()
}

// showOffer asks whether to take the file e offers.
func (u *UI) showOffer(e *fileEntry) {
	id, user := e.info.ID, e.info.User
	o := &offerPrompt{id: id, user: user, name: e.info.Name, size: humanSize(e.info.Size)}
	icon := container.NewGridWrap(fyne.NewSquareSize(48), widget.NewIcon(theme.NewColoredResource(iconFile, theme.ColorNamePrimary)))
	who := widget.NewLabelWithStyle(user+" wants to send you a file", fyne.TextAlignCenter, fyne.TextStyle{})
	who.Wrapping = fyne.TextWrapWord
	name := widget.NewLabelWithStyle(e.info.Name, fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	name.Wrapping = fyne.TextWrapBreak
	size := newMuted(o.size, theme.SizeNameText, fyne.TextAlignCenter)
	o.decline = widget.NewButtonWithIcon("Decline", theme.CancelIcon(), func() {
		o.dismiss()
		u.declineFile(id)
	})
	o.accept = widget.NewButtonWithIcon("Save…", theme.DownloadIcon(), func() {
		o.dismiss()
		u.acceptFile(id)
	})
	o.accept.Importance = widget.HighImportance
	chatBtn := widget.NewButtonWithIcon("Open the conversation", iconChat, func() {
		o.dismiss()
		u.openChat(user)
	})
	chatBtn.Importance = widget.LowImportance
	content := container.NewVBox(container.NewCenter(icon), who, name, size, spacer(theme.Padding()),
		container.NewGridWithColumns(2, o.decline, o.accept), chatBtn)
	o.d = dialog.NewCustomWithoutButtons("File from "+user, content, u.win)
	o.d.SetOnClosed(func() {
		if u.offers[id] == o {
			delete(u.offers, id)
		}
	})
	o.d.Resize(fyne.NewSize(min(u.win.Canvas().Size().Width-32, 340), 0))
	u.offers[id] = o
	o.d.Show()
}

// humanSize is a byte count in decimal units: "512 B", "3.1 MB".
func humanSize(n int64) string {
	if n < 1000 {
		return fmt.Sprintf("%d B", n)
	}
	f := float64(n)
	for _, unit := range []string{"kB", "MB", "GB", "TB"} {
		f /= 1000
		if f < 999.95 || unit == "TB" {
			if f < 100 {
				return fmt.Sprintf("%.1f %s", f, unit)
			}
			return fmt.Sprintf("%.0f %s", f, unit)
		}
	}
	return ""
}

// rateText is a transfer's speed and time left: "12.3 MB/s · 0:42 left".
func rateText(info transfer.Info) string {
	if info.Rate <= 0 {
		return "Starting…"
	}
	s := humanSize(int64(info.Rate)) + "/s"
	if info.ETA > 0 {
		s += " · " + clock(info.ETA.Round(time.Second)) + " left"
	}
	return s
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return strings.TrimPrefix(firstLine(err.Error()), "transfer: ")
}

// fileActions is the row of buttons under a file in the pane.
func fileActions(objs ...fyne.CanvasObject) *fyne.Container {
	return container.NewHBox(append([]fyne.CanvasObject{layout.NewSpacer()}, objs...)...)
}
