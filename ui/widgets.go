package ui

import (
	"strings"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// card is a raised, rounded panel around content, in the theme's card
// colour; it re-reads the theme on every refresh so it follows a switch
// between light and dark.
type card struct {
	widget.BaseWidget
	content fyne.CanvasObject
	bar     bool // square, borderless and less inset: a header bar
}

func newCard(content fyne.CanvasObject) *card {
	c := &card{content: content}
	c.ExtendBaseWidget(c)
	return c
}

// newBar is a card for the top of a screen: edge to edge, no corners.
func newBar(content fyne.CanvasObject) *card {
	c := &card{content: content, bar: true}
	c.ExtendBaseWidget(c)
	return c
}

func (c *card) CreateRenderer() fyne.WidgetRenderer {
	r := &cardRenderer{c: c, bg: canvas.NewRectangle(nil)}
	r.applyTheme()
	return r
}

type cardRenderer struct {
	c  *card
	bg *canvas.Rectangle
}

func (r *cardRenderer) inset() float32 {
	th := r.c.Theme()
	if r.c.bar {
		return th.Size(theme.SizeNameInnerPadding) + th.Size(theme.SizeNamePadding)
	}
	return 2*th.Size(theme.SizeNameInnerPadding) + th.Size(theme.SizeNamePadding)
}

func (r *cardRenderer) applyTheme() {
	th := r.c.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	r.bg.FillColor = th.Color(colorNameCard, v)
	if r.c.bar {
		return
	}
	r.bg.StrokeColor = th.Color(colorNameCardBorder, v)
	r.bg.StrokeWidth = 1
	r.bg.CornerRadius = 2 * th.Size(theme.SizeNameInputRadius)
}

func (r *cardRenderer) Layout(size fyne.Size) {
	r.bg.Resize(size)
	in := r.inset()
	r.c.content.Move(fyne.NewPos(in, in))
	r.c.content.Resize(fyne.NewSize(size.Width-2*in, size.Height-2*in))
}

func (r *cardRenderer) MinSize() fyne.Size {
	in := r.inset()
	return r.c.content.MinSize().Add(fyne.NewSize(2*in, 2*in))
}

func (r *cardRenderer) Refresh() {
	r.applyTheme()
	r.bg.Refresh()
	r.c.content.Refresh()
}

func (r *cardRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.bg, r.c.content} }
func (r *cardRenderer) Destroy()                     {}

// maxWidth lays its objects out centred horizontally, each as wide as the
// container but no wider than width, and as tall as the container.
type maxWidth struct{ width float32 }

func (l maxWidth) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	w := min(size.Width, l.width)
	for _, o := range objs {
		o.Resize(fyne.NewSize(w, size.Height))
		o.Move(fyne.NewPos((size.Width-w)/2, 0))
	}
}

func (l maxWidth) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for _, o := range objs {
		s = s.Max(o.MinSize())
	}
	return s
}

// avatar is a round badge with the first letter of a username.
type avatar struct {
	widget.BaseWidget
	name string
	size float32
}

func newAvatar(size float32) *avatar {
	a := &avatar{size: size}
	a.ExtendBaseWidget(a)
	return a
}

// SetName shows the initial of name.
func (a *avatar) SetName(name string) {
	a.name = name
	a.Refresh()
}

func (a *avatar) initial() string {
	for _, r := range a.name {
		return string(unicode.ToUpper(r))
	}
	return "?"
}

func (a *avatar) CreateRenderer() fyne.WidgetRenderer {
	r := &avatarRenderer{a: a, circle: canvas.NewCircle(nil), text: canvas.NewText("", nil)}
	r.text.TextStyle.Bold = true
	r.text.Alignment = fyne.TextAlignCenter
	r.Refresh()
	return r
}

type avatarRenderer struct {
	a      *avatar
	circle *canvas.Circle
	text   *canvas.Text
}

func (r *avatarRenderer) Layout(size fyne.Size) {
	d := min(size.Width, size.Height)
	r.circle.Resize(fyne.NewSquareSize(d))
	r.circle.Move(fyne.NewPos((size.Width-d)/2, (size.Height-d)/2))
	ts := r.text.MinSize()
	r.text.Resize(fyne.NewSize(size.Width, ts.Height))
	r.text.Move(fyne.NewPos(0, (size.Height-ts.Height)/2))
}

func (r *avatarRenderer) MinSize() fyne.Size { return fyne.NewSquareSize(r.a.size) }

func (r *avatarRenderer) Refresh() {
	th := r.a.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	r.circle.FillColor = th.Color(theme.ColorNamePrimary, v)
	r.text.Color = th.Color(theme.ColorNameForegroundOnPrimary, v)
	r.text.TextSize = r.a.size * 0.45
	r.text.Text = r.a.initial()
	r.circle.Refresh()
	r.text.Refresh()
}

func (r *avatarRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.circle, r.text} }
func (r *avatarRenderer) Destroy()                     {}

// newMuted returns secondary text: the theme's placeholder colour, at the
// given size.
func newMuted(text string, size fyne.ThemeSizeName, align fyne.TextAlign) *widget.RichText {
	rt := widget.NewRichText(&widget.TextSegment{Text: text, Style: widget.RichTextStyle{
		Alignment: align,
		ColorName: theme.ColorNamePlaceHolder,
		SizeName:  size,
		Inline:    true,
	}})
	return rt
}

// setRichText replaces the text of a one-segment RichText made by newMuted.
func setRichText(rt *widget.RichText, text string) {
	rt.Segments[0].(*widget.TextSegment).Text = text
	rt.Refresh()
}

// richText returns the text of a RichText, for tests and accessibility.
func richText(rt *widget.RichText) string {
	var b strings.Builder
	for _, s := range rt.Segments {
		b.WriteString(s.Textual())
	}
	return b.String()
}
