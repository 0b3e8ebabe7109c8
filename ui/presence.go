package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"soitto/overlay/presence"
)

// Presence colours, the same in light and dark: the traffic-light
// convention every messenger uses.
var (
	colorOnline = color.NRGBA{R: 0x2e, G: 0xa0, B: 0x43, A: 0xff}
	colorAway   = color.NRGBA{R: 0xe3, G: 0x9b, B: 0x17, A: 0xff}
	colorDND    = color.NRGBA{R: 0xd9, G: 0x3a, B: 0x3f, A: 0xff}
)

// statusLabel is how a status reads in the window.
func statusLabel(s presence.Status) string {
	switch s {
	case presence.Online:
		return "Online"
	case presence.Away:
		return "Away"
	case presence.DND:
		return "Do not disturb"
	case presence.Invisible:
		return "Invisible"
	}
	return "Offline"
}

// ownStatuses are the choices of the status menu, in its order.
var ownStatuses = []presence.Status{presence.Online, presence.Away, presence.DND, presence.Invisible}

// dot is a presence dot: filled in the status colour, or a grey ring for
// offline and invisible.
type dot struct {
	widget.BaseWidget
	status presence.Status
	size   float32
	// ring draws a border in the background colour around the dot, so a
	// dot laid over an avatar stands clear of it.
	ring fyne.ThemeColorName
}

func newDot(size float32) *dot {
	d := &dot{size: size}
	d.ExtendBaseWidget(d)
	return d
}

// SetStatus recolours the dot.
func (d *dot) SetStatus(s presence.Status) {
	if d.status == s {
		return
	}
	d.status = s
	d.Refresh()
}

func (d *dot) CreateRenderer() fyne.WidgetRenderer {
	r := &dotRenderer{d: d, c: canvas.NewCircle(nil)}
	r.Refresh()
	return r
}

type dotRenderer struct {
	d *dot
	c *canvas.Circle
}

func (r *dotRenderer) Layout(size fyne.Size) {
	s := min(size.Width, size.Height, r.d.size)
	r.c.Resize(fyne.NewSquareSize(s))
	r.c.Move(fyne.NewPos((size.Width-s)/2, (size.Height-s)/2))
}

func (r *dotRenderer) MinSize() fyne.Size { return fyne.NewSquareSize(r.d.size) }

func (r *dotRenderer) Refresh() {
	th := r.d.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	r.c.StrokeWidth = 0
	r.c.StrokeColor = color.Transparent
	switch r.d.status {
	case presence.Online:
		r.c.FillColor = colorOnline
	case presence.Away:
		r.c.FillColor = colorAway
	case presence.DND:
		r.c.FillColor = colorDND
	default:
		r.c.FillColor = th.Color(colorNameCard, v)
		r.c.StrokeColor = th.Color(theme.ColorNamePlaceHolder, v)
		r.c.StrokeWidth = max(1.5, r.d.size/6)
	}
	if r.d.ring != "" && r.d.status != presence.Offline {
		r.c.StrokeColor = th.Color(r.d.ring, v)
		r.c.StrokeWidth = max(2, r.d.size/6)
	}
	r.c.Refresh()
}

func (r *dotRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.c} }
func (r *dotRenderer) Destroy()                     {}
