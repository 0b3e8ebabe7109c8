package ui

import (
	"context"
	"fmt"
	"image/color"
	"math"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"soitto/app"
)

// Call view timings.
const (
	statsInterval = 250 * time.Millisecond // the level meter and quality line
	endedShownFor = 3 * time.Second        // "Call ended" before the home screen returns
)

// callView is the screen of a call in progress: who, how long, how it
// sounds and goes, and mute and hang-up.
type callView struct {
	u    *UI
	root fyne.CanvasObject

	avatar  *avatar
	name    *widget.Label
	state   *widget.Label
	quality *widget.RichText
	level   *levelMeter
	mute    *widget.Button
	hangup  *widget.Button
	warning *widget.Label

	call    app.CallInfo // the call shown; zero ID when none
	stats   app.CallStats
	stopped chan struct{} // closed when the stats poller must stop
	endedAt time.Time
}

func newCallView(u *UI) *callView {
	v := &callView{u: u}
	v.avatar = newAvatar(112)
	v.name = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	v.name.SizeName = theme.SizeNameHeadingText
	v.name.Truncation = fyne.TextTruncateEllipsis
	v.state = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{})
	v.state.SizeName = theme.SizeNameSubHeadingText
	v.quality = newMuted("", theme.SizeNameText, fyne.TextAlignCenter)
	v.quality.Wrapping = fyne.TextWrapWord
	v.level = newLevelMeter()
	v.mute = widget.NewButtonWithIcon("Mute", iconMic, v.toggleMute)
	v.hangup = widget.NewButtonWithIcon("Hang up", iconHangup, v.hangUp)
	v.hangup.Importance = widget.DangerImportance
	v.warning = widget.NewLabel("")
	v.warning.Importance = widget.WarningImportance
	v.warning.Wrapping = fyne.TextWrapWord
	v.warning.Alignment = fyne.TextAlignCenter
	v.warning.Hide()

	pad := theme.Padding()
	meter := container.NewBorder(nil, nil,
		container.NewCenter(widget.NewIcon(theme.NewColoredResource(iconMic, theme.ColorNamePlaceHolder))), nil,
		container.New(layout.NewCustomPaddedLayout(pad*2, pad*2, 0, 0), v.level))
	buttons := container.NewGridWithColumns(2, v.mute, v.hangup)
	v.root = container.New(layout.NewCustomPaddedLayout(6*pad, 6*pad, 6*pad, 6*pad),
		container.NewBorder(
			container.NewVBox(spacer(4*pad), container.NewCenter(v.avatar), spacer(2*pad), v.name, v.state, v.quality),
			container.NewVBox(v.warning, newCard(meter), spacer(2*pad), buttons),
			nil, nil, layout.NewSpacer()))
	return v
}

// show shows call c (new or changed).
func (v *callView) show(c app.CallInfo) {
	first := v.call.ID != c.ID
	v.call = c
	if first {
		v.stats = app.CallStats{}
		v.warning.Hide()
		v.avatar.SetName(c.Peer)
		v.name.SetText(c.Peer)
		v.mute.Enable()
		v.hangup.Enable()
	}
	v.refresh()
	if c.State == app.CallActive && v.stopped == nil {
		v.startStats(c.ID)
	}
	if c.State == app.CallEnded {
		v.stopStats()
		v.mute.Disable()
		v.hangup.Disable()
		v.level.SetValue(0)
	}
}

// refresh redraws the state line and the quality line.
func (v *callView) refresh() {
	c := v.call
	// Monospaced digits keep the running timer from jiggling.
	if mono := c.State == app.CallActive; v.state.TextStyle.Monospace != mono {
		v.state.TextStyle.Monospace = mono
		v.state.Refresh()
	}
	switch c.State {
	case app.CallDialling:
		v.state.SetText("Calling…")
	case app.CallRinging:
		if c.Outgoing {
			v.state.SetText("Ringing…")
		} else {
			v.state.SetText("Incoming call")
		}
	case app.CallConnecting:
		v.state.SetText("Connecting…")
	case app.CallActive:
		v.state.SetText(clock(c.Duration(v.u.now())))
	case app.CallEnded:
		v.state.SetText(endText(c))
	}
	if c.Muted {
		v.mute.SetText("Unmute")
		v.mute.SetIcon(iconMicOff)
		v.mute.Importance = widget.WarningImportance
	} else {
		v.mute.SetText("Mute")
		v.mute.SetIcon(iconMic)
		v.mute.Importance = widget.MediumImportance
	}
	v.mute.Refresh()
	switch {
	case c.State == app.CallActive && v.stats.Path.Text != "":
		setRichText(v.quality, qualityText(v.stats))
	case c.State == app.CallEnded && c.Duration(v.u.now()) > 0:
		setRichText(v.quality, "Talked for "+clock(c.Duration(v.u.now())))
	default:
		setRichText(v.quality, "")
	}
}

// setStats takes a new measurement.
func (v *callView) setStats(id string, st app.CallStats) {
	if v.call.ID != id || v.call.State != app.CallActive {
		return
	}
	v.stats = st
	v.level.SetValue(st.Level)
	v.refresh()
}

// startStats polls the call's statistics until the call ends.
func (v *callView) startStats(id string) {
	stop := make(chan struct{})
	v.stopped = stop
	v.u.async(func(ctx context.Context) {
		t := time.NewTicker(statsInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-stop:
				return
			case <-t.C:
			}
			st, err := v.u.client.CallStats(id)
			if err != nil {
				continue
			}
			v.u.post(func() { v.setStats(id, st) })
		}
	})
}

func (v *callView) stopStats() {
	if v.stopped != nil {
		close(v.stopped)
		v.stopped = nil
	}
}

func (v *callView) toggleMute() {
	id, muted := v.call.ID, !v.call.Muted
	v.u.async(func(context.Context) { v.u.client.SetCallMuted(id, muted) })
}

func (v *callView) hangUp() {
	id := v.call.ID
	v.hangup.Disable()
	v.u.async(func(context.Context) { v.u.client.HangUp(id) })
}

func (v *callView) warn(text string) {
	v.warning.SetText(text)
	v.warning.Show()
}

// clock is a call's length as m:ss or h:mm:ss.
func clock(d time.Duration) string {
	s := int(d / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// endText says how a call ended, from this side's point of view.
func endText(c app.CallInfo) string {
	switch c.End {
	case app.EndHungUp:
		if c.EndedBy != "" {
			if c.Reason == "offline" {
				return c.Peer + " went offline"
			}
			return c.Peer + " hung up"
		}
		return "Call ended"
	case app.EndDeclined:
		if c.EndedBy != "" {
			return c.Peer + " declined"
		}
		return "Declined"
	case app.EndBusy:
		return c.Peer + " is busy"
	case app.EndNoAnswer:
		if c.Outgoing {
			return "No answer"
		}
		return "Missed call"
	case app.EndCancelled:
		if c.Outgoing {
			return "Cancelled"
		}
		return "Missed call"
	case app.EndFailed:
		return "Call failed: " + firstLine(c.Reason)
	}
	return "Call ended"
}

// qualityText is the path and quality, plainly: "Direct · 12 ms · no
// loss · good".
func qualityText(st app.CallStats) string {
	path := "Direct"
	if !st.Path.Direct {
		path = "Through a relay"
	}
	loss := max(st.RemoteLoss, st.LocalLoss)
	lossText := "no loss"
	if loss >= 0.005 {
		lossText = fmt.Sprintf("%.0f%% loss", 100*loss)
	}
	verdict := "good"
	switch {
	case loss > 0.10 || st.RTT > 400*time.Millisecond:
		verdict = "poor"
	case loss > 0.03 || st.RTT > 200*time.Millisecond || st.Jitter > 30*time.Millisecond:
		verdict = "fair"
	}
	rtt := "…"
	if st.RTT > 0 {
		rtt = fmt.Sprintf("%d ms round trip", max(1, st.RTT.Milliseconds()))
	}
	return fmt.Sprintf("%s · %s · %s · %s", path, rtt, lossText, verdict)
}

// levelMeter is a horizontal bar showing the microphone's loudness.
type levelMeter struct {
	widget.BaseWidget
	value float64 // 0..1, on a log scale already
}

func newLevelMeter() *levelMeter {
	m := &levelMeter{}
	m.ExtendBaseWidget(m)
	return m
}

// SetValue takes an RMS level (0..1 of full scale) and shows it on a
// 60 dB scale, as level meters do.
func (m *levelMeter) SetValue(rms float64) {
	v := 0.0
	if rms > 0.001 {
		v = 1 + log10(rms)/3 // -60 dB → 0, 0 dB → 1
	}
	m.value = min(max(v, 0), 1)
	m.Refresh()
}

func (m *levelMeter) CreateRenderer() fyne.WidgetRenderer {
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
	bg.CornerRadius = 4
	fg := canvas.NewRectangle(theme.Color(theme.ColorNameSuccess))
	fg.CornerRadius = 4
	return &levelRenderer{m: m, bg: bg, fg: fg}
}

type levelRenderer struct {
	m      *levelMeter
	bg, fg *canvas.Rectangle
}

func (r *levelRenderer) Layout(size fyne.Size) {
	h := float32(8)
	y := (size.Height - h) / 2
	r.bg.Move(fyne.NewPos(0, y))
	r.bg.Resize(fyne.NewSize(size.Width, h))
	r.fg.Move(fyne.NewPos(0, y))
	r.fg.Resize(fyne.NewSize(size.Width*float32(r.m.value), h))
}

func (r *levelRenderer) MinSize() fyne.Size { return fyne.NewSize(100, 24) }

func (r *levelRenderer) Refresh() {
	r.bg.FillColor = theme.Color(theme.ColorNameInputBackground)
	var c color.Color = theme.Color(theme.ColorNameSuccess)
	if r.m.value > 0.9 {
		c = theme.Color(theme.ColorNameWarning) // clipping
	}
	r.fg.FillColor = c
	r.Layout(r.m.Size())
	r.bg.Refresh()
	r.fg.Refresh()
}

func (r *levelRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.bg, r.fg} }
func (r *levelRenderer) Destroy()                     {}

// incoming is the dialog of a call ringing here.
type incoming struct {
	d               *dialog.CustomDialog
	id              string
	from            string
	accept, decline *widget.Button
}

// showIncoming alerts the user to call c: caller, accept and decline.
func (u *UI) showIncoming(c app.CallInfo) {
	if u.ring != nil {
		u.ring.d.Hide()
	}
	av := newAvatar(72)
	av.SetName(c.Peer)
	who := widget.NewLabelWithStyle(c.Peer, fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	who.SizeName = theme.SizeNameSubHeadingText
	what := newMuted("is calling you", theme.SizeNameText, fyne.TextAlignCenter)
	in := &incoming{id: c.ID, from: c.Peer}
	decline := widget.NewButtonWithIcon("Decline", iconHangup, func() {
		in.d.Hide()
		u.async(func(context.Context) { u.client.DeclineCall(c.ID) })
	})
	decline.Importance = widget.DangerImportance
	accept := widget.NewButtonWithIcon("Accept", iconPhone, func() {
		in.d.Hide()
		u.answer(c)
	})
	accept.Importance = widget.SuccessImportance
	in.accept, in.decline = accept, decline
	content := container.NewVBox(container.NewCenter(av), who, what, spacer(theme.Padding()),
		container.NewGridWithColumns(2, decline, accept))
	in.d = dialog.NewCustomWithoutButtons("Incoming call", content, u.win)
	in.d.Resize(fyne.NewSize(min(u.win.Canvas().Size().Width-32, 320), 0))
	u.ring = in
	in.d.Show()
}

// answer takes call c with the system's devices and shows it.
func (u *UI) answer(c app.CallInfo) {
	echo := u.echo
	u.showCall(c)
	u.async(func(context.Context) {
		if err := u.client.AnswerCall(c.ID, u.devices(echo)); err != nil {
			u.post(func() { u.call.warn("Could not answer: " + firstLine(err.Error())) })
		}
	})
}

// startCall rings user from the window.
func (u *UI) startCall(user string) {
	echo := u.echo
	u.async(func(ctx context.Context) {
		info, err := u.client.Call(ctx, user, u.devices(echo))
		if err != nil && info.ID == "" {
			u.post(func() { u.home.warn("Cannot call " + user + ": " + firstLine(err.Error())) })
		}
	})
}

// showCall switches to the call view for c.
func (u *UI) showCall(c app.CallInfo) {
	u.call.show(c)
	u.show(u.call.root)
}

// callChanged takes a call's new state from the client.
func (u *UI) callChanged(c app.CallInfo) {
	incomingRinging := !c.Outgoing && c.State == app.CallRinging
	switch {
	case incomingRinging:
		u.showIncoming(c)
		return
	case u.ring != nil && u.ring.id == c.ID:
		u.ring.d.Hide()
		u.ring = nil
		if c.State == app.CallEnded {
			if c.End == app.EndCancelled || c.End == app.EndNoAnswer {
				u.home.warn("Missed call from " + c.Peer)
			}
			return
		}
	}
	if c.State == app.CallEnded && u.call.call.ID != c.ID {
		return // a call this window never showed (busy, say)
	}
	u.showCall(c)
	if c.State == app.CallEnded {
		id := c.ID
		u.async(func(ctx context.Context) {
			select {
			case <-time.After(endedShownFor):
			case <-ctx.Done():
				return
			}
			u.post(func() {
				if u.call.call.ID == id && u.shown == u.call.root {
					u.call.call = app.CallInfo{}
					u.show(u.home.root)
				}
			})
		})
	}
}

func log10(x float64) float64 { return math.Log10(x) }
