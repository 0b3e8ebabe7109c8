package ui

import (
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"soitto/app/transfer"
)

// fileRowWidth is how wide a file is drawn in the conversation, at most.
const fileRowWidth = 340

// fileRow is a file in the conversation: its name and size, how far it
// got and how fast, and what can be done with it (accept or decline an
// offer, cancel, open the folder it was saved in).
type fileRow struct {
	widget.BaseWidget
	u *UI
	e *fileEntry

	name    *widget.Label
	detail  *widget.RichText
	bar     *widget.ProgressBar
	status  *widget.RichText
	accept  *widget.Button
	decline *widget.Button
	cancel  *widget.Button
	open    *widget.Button
	actions *fyne.Container
}

func newFileRow(u *UI) *fileRow {
	r := &fileRow{u: u}
	r.name = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	r.name.Truncation = fyne.TextTruncateEllipsis
	r.detail = newMuted("", theme.SizeNameCaptionText, fyne.TextAlignLeading)
	r.bar = widget.NewProgressBar()
	r.bar.TextFormatter = func() string { return "" }
	r.status = newMuted("", theme.SizeNameCaptionText, fyne.TextAlignLeading)
	r.status.Wrapping = fyne.TextWrapWord
	r.accept = widget.NewButtonWithIcon("Save…", theme.DownloadIcon(), func() { u.acceptFile(r.e.info.ID) })
	r.accept.Importance = widget.HighImportance
	r.decline = widget.NewButton("Decline", func() { u.declineFile(r.e.info.ID) })
	r.cancel = widget.NewButton("Cancel", func() { u.cancelFile(r.e.info.ID) })
	r.cancel.Importance = widget.LowImportance
	r.open = widget.NewButtonWithIcon("Open folder", theme.FolderOpenIcon(), func() { u.openFolder(r.e) })
	r.open.Importance = widget.LowImportance
	r.actions = fileActions(r.decline, r.accept, r.cancel, r.open)
	r.ExtendBaseWidget(r)
	return r
}

func (r *fileRow) own() bool { return r.e != nil && !r.e.info.Incoming }

func (r *fileRow) prefWidth(max float32) float32 { return min(max, fileRowWidth) }

// set shows e.
func (r *fileRow) set(e *fileEntry) {
	r.e = e
	info := e.info
	r.name.SetText(info.Name)
	size := ""
	if info.Size > 0 {
		size = humanSize(info.Size)
	}
	switch info.State {
	case transfer.StateActive, transfer.StatePaused:
		if info.Size > 0 {
			size = humanSize(info.Done) + " of " + size
		}
	}
	setRichText(r.detail, size)
	show := func(o fyne.CanvasObject, on bool) {
		if on {
			o.Show()
		} else {
			o.Hide()
		}
	}
	offered := info.State == transfer.StateOffered && !e.lost
	running := (info.State == transfer.StateActive || info.State == transfer.StatePaused) && !e.lost
	show(r.accept, offered && info.Incoming && !e.accepting)
	show(r.decline, offered && info.Incoming && !e.accepting)
	show(r.cancel, !e.final() && !(offered && info.Incoming && !e.accepting))
	show(r.open, info.Incoming && info.State == transfer.StateDone && !e.lost)
	show(r.actions, r.accept.Visible() || r.cancel.Visible() || r.open.Visible())
	show(r.bar, running)
	if running && info.Size > 0 {
		r.bar.SetValue(float64(info.Done) / float64(info.Size))
	}
	setRichText(r.status, fileStatus(e))
	r.Refresh()
}

// statusText is the row's status line, for tests.
func (r *fileRow) statusText() string { return richText(r.status) }

// fileStatus says where a transfer stands, in a few words.
func fileStatus(e *fileEntry) string {
	info := e.info
	user := info.User
	if e.lost {
		return "Ended"
	}
	var s string
	switch info.State {
	case transfer.StateHashing:
		s = "Preparing…"
	case transfer.StateOffered:
		switch {
		case info.Incoming && e.accepting:
			s = "Starting…"
		case info.Incoming:
			s = user + " wants to send you this file"
		default:
			s = "Waiting for " + user + " to accept…"
		}
	case transfer.StateActive:
		s = rateText(info)
	case transfer.StatePaused:
		s = "Waiting for " + user + "…"
	case transfer.StateDone:
		if info.Incoming {
			s = "Saved"
			if info.Path != "" {
				s += " as " + filepath.Base(info.Path)
			}
		} else {
			s = "Sent"
		}
	case transfer.StateFailed:
		s = "Failed"
		if e.note != "" {
			s += ": " + e.note
		}
		return s
	case transfer.StateDeclined:
		if info.Incoming {
			s = "Declined"
		} else {
			s = user + " declined"
		}
	case transfer.StateCancelled:
		if e.byPeer {
			s = user + " cancelled"
		} else {
			s = "Cancelled"
		}
		return s
	}
	if e.note != "" && info.State != transfer.StatePaused && info.State != transfer.StateDone {
		s += " · " + e.note
	}
	return s
}

func (r *fileRow) CreateRenderer() fyne.WidgetRenderer {
	pad := theme.Padding()
	icon := container.NewCenter(container.NewGridWrap(fyne.NewSquareSize(32),
		widget.NewIcon(theme.NewColoredResource(iconFile, theme.ColorNamePrimary))))
	head := container.NewBorder(nil, nil, icon, nil,
		container.New(layout.NewCustomPaddedVBoxLayout(-3*pad), r.name, r.detail))
	content := container.New(layout.NewCustomPaddedVBoxLayout(0), head, r.bar,
		container.New(layout.NewCustomPaddedVBoxLayout(-2*pad), r.status, r.actions))
	bg := canvas.NewRectangle(nil)
	rr := &fileRowRenderer{r: r, bg: bg, content: content}
	rr.Refresh()
	return rr
}

type fileRowRenderer struct {
	r       *fileRow
	bg      *canvas.Rectangle
	content *fyne.Container
}

const fileRowInset = 8

func (rr *fileRowRenderer) Layout(size fyne.Size) {
	if rr.bg.Size() != size {
		rr.bg.Resize(size)
		rr.bg.Refresh() // painters may keep the old shape
	}
	rr.content.Move(fyne.NewPos(fileRowInset, fileRowInset/2))
	rr.content.Resize(size.SubtractWidthHeight(2*fileRowInset, fileRowInset))
}

func (rr *fileRowRenderer) MinSize() fyne.Size {
	return rr.content.MinSize().AddWidthHeight(2*fileRowInset, fileRowInset)
}

func (rr *fileRowRenderer) Refresh() {
	styleBubble(rr.bg, rr.r.Theme(), rr.r.own())
	rr.Layout(rr.r.Size())
	rr.bg.Refresh()
	rr.content.Refresh()
}

func (rr *fileRowRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{rr.bg, rr.content}
}
func (rr *fileRowRenderer) Destroy() {}
