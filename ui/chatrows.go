package ui

import (
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"soitto/app/chat"
)

// The marks an own message carries, as words (tests and the tooltip-less
// reader) beside the icon drawn.
const (
	markPending   = "pending"
	markSent      = "sent"
	markDelivered = "delivered"
	markMailed    = "via the ring"
)

// bubble is one chat message: its text on a rounded panel, tinted and on
// the right for one's own, plain and on the left for the buddy's, with
// the time and, for one's own, whether it arrived.
type bubble struct {
	widget.BaseWidget
	msg    chat.Message
	mailed bool // left on the ring for the offline buddy (this run)

	text *widget.Label
	meta *widget.RichText
	mark *canvas.Image
}

func newBubble() *bubble {
	b := &bubble{}
	b.text = widget.NewLabel("")
	b.text.Wrapping = fyne.TextWrapWord
	b.text.Selectable = true
	b.meta = newMuted("", theme.SizeNameCaptionText, fyne.TextAlignTrailing)
	b.mark = canvas.NewImageFromResource(nil)
	b.mark.FillMode = canvas.ImageFillContain
	b.mark.SetMinSize(fyne.NewSquareSize(14))
	b.ExtendBaseWidget(b)
	return b
}

// set shows m; mailed says it was left on the ring.
func (b *bubble) set(m chat.Message, mailed bool) {
	if b.msg.ID == m.ID && b.msg.State == m.State && b.mailed == mailed && b.msg.Offline == m.Offline && b.text.Text == m.Text {
		return
	}
	b.msg, b.mailed = m, mailed
	b.text.SetText(m.Text)
	meta := m.Time.Local().Format("15:04")
	if m.Outgoing && (mailed && m.State != chat.StateDelivered || m.Offline) {
		meta += " · " + markMailed
	}
	setRichText(b.meta, meta)
	b.Refresh()
}

// markText is the mark's meaning: pending, sent, delivered, or "via
// the ring" for one left there and not collected yet; "" on theirs.
func (b *bubble) markText() string {
	m := b.msg
	switch {
	case !m.Outgoing:
		return ""
	case m.State == chat.StateDelivered:
		return markDelivered
	case b.mailed:
		return markMailed
	case m.State == chat.StateSent:
		return markSent
	}
	return markPending
}

func (b *bubble) own() bool { return b.msg.Outgoing }

// prefWidth is as wide as the text wants, up to max.
func (b *bubble) prefWidth(max float32) float32 {
	th := b.Theme()
	inner := th.Size(theme.SizeNameInnerPadding)
	size := th.Size(theme.SizeNameText)
	w := float32(0)
	for line := range strings.SplitSeq(b.msg.Text, "\n") {
		w = fyne.Max(w, fyne.MeasureText(line, size, fyne.TextStyle{}).Width)
	}
	w += 2*inner + 2 // the label's own inset, and rounding
	meta := b.meta.MinSize().Width + 18
	return min(max, fyne.Max(w, meta)+2*bubbleInset)
}

// bubbleInset is the panel's margin around the text.
const bubbleInset = 4

func (b *bubble) CreateRenderer() fyne.WidgetRenderer {
	pad := theme.Padding()
	metaRow := container.New(layout.NewCustomPaddedHBoxLayout(0), layout.NewSpacer(), b.meta,
		container.NewCenter(b.mark))
	content := container.New(layout.NewCustomPaddedVBoxLayout(-3*pad), b.text, metaRow)
	r := &bubbleRenderer{b: b, bg: canvas.NewRectangle(nil), content: content}
	r.Refresh()
	return r
}

type bubbleRenderer struct {
	b       *bubble
	bg      *canvas.Rectangle
	content *fyne.Container
}

func (r *bubbleRenderer) Layout(size fyne.Size) {
	if r.bg.Size() != size {
		r.bg.Resize(size)
		r.bg.Refresh() // painters may keep the old shape
	}
	r.content.Move(fyne.NewPos(bubbleInset, bubbleInset))
	r.content.Resize(size.SubtractWidthHeight(2*bubbleInset, 2*bubbleInset))
}

// styleBubble gives bg a bubble's look in th: tinted for this user's own
// messages and files, a bordered card for the other side's.
func styleBubble(bg *canvas.Rectangle, th fyne.Theme, own bool) {
	v := fyne.CurrentApp().Settings().ThemeVariant()
	if own {
		bg.FillColor = th.Color(colorNameBubbleOwn, v)
		bg.StrokeWidth = 0
	} else {
		bg.FillColor = th.Color(colorNameCard, v)
		bg.StrokeColor = th.Color(colorNameCardBorder, v)
		bg.StrokeWidth = 1
	}
	bg.CornerRadius = 2 * th.Size(theme.SizeNameInputRadius)
}

func (r *bubbleRenderer) MinSize() fyne.Size {
	return r.content.MinSize().AddWidthHeight(2*bubbleInset, 2*bubbleInset)
}

func (r *bubbleRenderer) Refresh() {
	styleBubble(r.bg, r.b.Theme(), r.b.own())
	r.b.mark.Show()
	switch r.b.markText() {
	case "":
		r.b.mark.Hide()
	case markDelivered:
		r.b.mark.Resource = theme.NewColoredResource(iconDelivered, theme.ColorNamePrimary)
	case markSent:
		r.b.mark.Resource = theme.NewColoredResource(iconSent, theme.ColorNamePlaceHolder)
	default:
		r.b.mark.Resource = theme.NewColoredResource(iconPending, theme.ColorNamePlaceHolder)
	}
	r.Layout(r.b.Size())
	r.bg.Refresh()
	r.b.mark.Refresh()
	r.content.Refresh()
}

func (r *bubbleRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.bg, r.content} }
func (r *bubbleRenderer) Destroy()                     {}

// sided is a row of the conversation that sits on one side: a message or
// a file.
type sided interface {
	fyne.CanvasObject
	own() bool
	prefWidth(max float32) float32
}

// chatLayout stacks the conversation: messages and files on their side,
// at most 80% of the width, day separators across. Wrapped text is as
// tall as its width makes it, so every row is measured at the width it
// gets.
type chatLayout struct{ width float32 }

const chatGap = 6

func (l *chatLayout) measure(o fyne.CanvasObject, width float32) (fyne.Size, bool) {
	s, ok := o.(sided)
	if !ok {
		return fyne.NewSize(width, o.MinSize().Height), false
	}
	w := s.prefWidth(fyne.Min(chatMaxBubble, fyne.Max(width*0.8, fyne.Min(width, 240))))
	if o.Size().Width != w {
		o.Resize(fyne.NewSize(w, o.MinSize().Height))
	}
	return fyne.NewSize(w, o.MinSize().Height), s.own()
}

func (l *chatLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	l.width = size.Width
	y := float32(0)
	for _, o := range objs {
		if !o.Visible() {
			continue
		}
		s, right := l.measure(o, size.Width)
		o.Resize(s)
		x := float32(0)
		if right {
			x = size.Width - s.Width
		}
		o.Move(fyne.NewPos(x, y))
		y += s.Height + chatGap
	}
}

func (l *chatLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	h := float32(0)
	for _, o := range objs {
		if !o.Visible() {
			continue
		}
		if l.width == 0 {
			h += o.MinSize().Height + chatGap
			continue
		}
		s, _ := l.measure(o, l.width)
		h += s.Height + chatGap
	}
	return fyne.NewSize(0, h)
}

// daySeparator heads the messages of one day: "Today", "Yesterday",
// "Mon 2 Jan".
func daySeparator(day, today time.Time) fyne.CanvasObject {
	text := day.Format("Mon 2 Jan")
	switch {
	case sameDay(day, today):
		text = "Today"
	case sameDay(day, today.AddDate(0, 0, -1)):
		text = "Yesterday"
	case day.Year() != today.Year():
		text = day.Format("2 Jan 2006")
	}
	return container.NewBorder(nil, nil, nil, nil,
		container.NewHBox(layout.NewSpacer(), newMuted(text, theme.SizeNameCaptionText, fyne.TextAlignCenter), layout.NewSpacer()))
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

// pill is a small round count in the accent colour: unread messages.
type pill struct {
	widget.BaseWidget
	n int
}

func newPill() *pill {
	p := &pill{}
	p.ExtendBaseWidget(p)
	return p
}

// SetCount shows n, and hides the pill at zero.
func (p *pill) SetCount(n int) {
	p.n = n
	if n <= 0 {
		p.Hide()
	} else {
		p.Show()
	}
	p.Refresh()
}

func (p *pill) text() string {
	if p.n > 99 {
		return "99+"
	}
	return strconv.Itoa(p.n)
}

func (p *pill) CreateRenderer() fyne.WidgetRenderer {
	r := &pillRenderer{p: p, bg: canvas.NewRectangle(nil), label: canvas.NewText("", nil)}
	r.label.TextStyle.Bold = true
	r.label.Alignment = fyne.TextAlignCenter
	r.Refresh()
	return r
}

type pillRenderer struct {
	p     *pill
	bg    *canvas.Rectangle
	label *canvas.Text
}

func (r *pillRenderer) Layout(size fyne.Size) {
	h := float32(20)
	w := fyne.Max(h, r.label.MinSize().Width+10)
	pos := fyne.NewPos((size.Width-w)/2, (size.Height-h)/2)
	r.bg.Move(pos)
	r.bg.Resize(fyne.NewSize(w, h))
	ts := r.label.MinSize()
	r.label.Move(fyne.NewPos(pos.X, pos.Y+(h-ts.Height)/2))
	r.label.Resize(fyne.NewSize(w, ts.Height))
}

func (r *pillRenderer) MinSize() fyne.Size {
	return fyne.NewSize(fyne.Max(20, r.label.MinSize().Width+10), 20)
}

func (r *pillRenderer) Refresh() {
	th := r.p.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	r.bg.FillColor = th.Color(theme.ColorNamePrimary, v)
	r.bg.CornerRadius = 10
	r.label.Color = th.Color(theme.ColorNameForegroundOnPrimary, v)
	r.label.TextSize = th.Size(theme.SizeNameCaptionText)
	r.label.Text = r.p.text()
	r.Layout(r.p.Size())
	r.bg.Refresh()
	r.label.Refresh()
}

func (r *pillRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.bg, r.label} }
func (r *pillRenderer) Destroy()                     {}
