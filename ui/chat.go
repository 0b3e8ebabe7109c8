package ui

import (
	"context"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"soitto/app/chat"
	"soitto/overlay/presence"
)

// Conversation timings and sizes.
const (
	historyLimit  = 200             // messages shown when a conversation opens
	typingEvery   = 3 * time.Second // SetTyping(true) at most this often while typing
	typingStale   = 8 * time.Second // "typing…" goes if no refresh came (the event was lost)
	chatMaxBubble = 520             // a message is no wider than this
)

// chatPane is the conversation with one buddy, in the whole window: who
// and whether they are there, the messages and files, and the box to
// write in.
type chatPane struct {
	u    *UI
	root fyne.CanvasObject
	user string // the buddy; "" when closed

	avatar   *avatar
	dot      *dot
	name     *widget.Label
	presence *widget.RichText
	back     *widget.Button
	callBtn  *widget.Button

	layout  *chatLayout
	column  *fyne.Container
	scroll  *container.Scroll
	empty   fyne.CanvasObject
	typing  *widget.RichText
	warning *widget.Label
	entry   *chatEntry
	attach  *widget.Button
	send    *widget.Button

	msgs    []chat.Message
	bubbles map[[16]byte]*bubble
	files   map[string]*fileRow
	gen     int // the latest history read; older answers are dropped

	typingAt   time.Time // when the buddy's last "typing" came
	typingSent time.Time // when SetTyping(true) last went out; zero when off
	drafts     map[string]string
}

func newChatPane(u *UI) *chatPane {
	p := &chatPane{u: u, bubbles: map[[16]byte]*bubble{}, files: map[string]*fileRow{}, drafts: map[string]string{}}
	pad := theme.Padding()

	p.avatar = newAvatar(38)
	p.dot = newDot(13)
	p.dot.ring = colorNameCard
	badge := container.NewStack(p.avatar,
		container.NewVBox(layout.NewSpacer(), container.NewHBox(layout.NewSpacer(), p.dot)))
	p.name = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	p.name.SizeName = theme.SizeNameSubHeadingText
	p.name.Truncation = fyne.TextTruncateEllipsis
	p.presence = newMuted("", theme.SizeNameCaptionText, fyne.TextAlignLeading)
	p.presence.Truncation = fyne.TextTruncateEllipsis
	p.back = widget.NewButtonWithIcon("", theme.NavigateBackIcon(), p.close)
	p.back.Importance = widget.LowImportance
	p.callBtn = widget.NewButtonWithIcon("", iconPhone, func() { u.startCall(p.user) })
	p.callBtn.Importance = widget.LowImportance
	header := newBar(container.NewBorder(nil, nil,
		container.NewHBox(container.NewCenter(p.back), container.NewCenter(badge)),
		container.NewCenter(p.callBtn),
		container.NewVBox(layout.NewSpacer(),
			container.New(layout.NewCustomPaddedVBoxLayout(-4*pad), p.name, p.presence),
			layout.NewSpacer())))

	p.layout = &chatLayout{}
	p.column = container.New(p.layout)
	p.scroll = container.NewVScroll(container.New(layout.NewCustomPaddedLayout(3*pad, 3*pad, 3*pad, 3*pad), p.column))
	p.empty = container.NewCenter(container.NewVBox(
		container.NewCenter(container.NewGridWrap(fyne.NewSquareSize(44),
			widget.NewIcon(theme.NewColoredResource(iconChat, theme.ColorNamePlaceHolder)))),
		newMuted("No messages yet", theme.SizeNameText, fyne.TextAlignCenter)))

	p.typing = newMuted("", theme.SizeNameCaptionText, fyne.TextAlignLeading)
	p.typing.Hide()
	p.warning = widget.NewLabel("")
	p.warning.Importance = widget.WarningImportance
	p.warning.Wrapping = fyne.TextWrapWord
	p.warning.Hide()

	p.entry = newChatEntry(p.sendTapped)
	p.entry.OnChanged = p.edited
	p.attach = widget.NewButtonWithIcon("", iconAttach, func() { u.sendFileTo(p.user) })
	p.attach.Importance = widget.LowImportance
	p.send = widget.NewButtonWithIcon("", iconSend, p.sendTapped)
	p.send.Importance = widget.HighImportance
	composer := newBar(container.NewBorder(nil, nil,
		container.NewVBox(layout.NewSpacer(), p.attach),
		container.NewVBox(layout.NewSpacer(), p.send),
		p.entry))

	bottom := container.NewVBox(
		container.New(layout.NewCustomPaddedLayout(0, 0, 4*pad, 4*pad), container.NewVBox(p.typing, p.warning)),
		widget.NewSeparator(), composer)
	p.root = container.NewBorder(
		container.New(layout.NewCustomPaddedVBoxLayout(0), header, widget.NewSeparator()),
		bottom, nil, nil,
		container.NewStack(p.scroll, p.empty))
	return p
}

// isOpen tells whether the conversation with user is in the window.
func (p *chatPane) isOpen(user string) bool {
	return p.user != "" && p.user == user && p.u.shown == p.root
}

// openChat shows the conversation with user.
func (u *UI) openChat(user string) {
	p := u.chat
	if p.user != user {
		p.stopTyping()
		if p.user != "" {
			p.drafts[p.user] = p.entry.Text
		}
		p.user = user
		p.msgs = nil
		clear(p.bubbles)
		clear(p.files)
		p.column.Objects = nil
		p.gen++
		p.entry.SetText(p.drafts[user])
		p.entry.SetPlaceHolder("Message " + user)
		p.typing.Hide()
		p.warning.Hide()
		p.avatar.SetName(user)
		p.name.SetText(user)
		p.relayout()
	}
	p.refreshHeader()
	u.unread[user] = 0
	u.home.list.Refresh()
	for _, o := range u.offers {
		if o.user == user {
			o.dismiss() // the prompt is in the pane now
		}
	}
	u.show(p.root)
	p.rebuild(true)
	p.reload(true)
	u.win.Canvas().Focus(p.entry)
}

// close goes back to the home screen.
func (p *chatPane) close() {
	p.stopTyping()
	if p.user != "" {
		p.drafts[p.user] = p.entry.Text
	}
	p.user = ""
	p.u.show(p.u.home.root)
}

// reset forgets everything (at logout).
func (p *chatPane) reset() {
	p.user = ""
	p.msgs = nil
	p.gen++
	clear(p.bubbles)
	clear(p.files)
	clear(p.drafts)
	p.typingSent = time.Time{}
	p.column.Objects = nil
}

// refreshHeader shows the buddy's presence.
func (p *chatPane) refreshHeader() {
	if p.user == "" {
		return
	}
	c, ok := p.u.home.contact(p.user)
	st := presence.Offline
	text := "Not in your contacts"
	if ok {
		st = c.Status
		text = stateText(c)
		text = strings.TrimPrefix(text, "Contact · ")
	}
	p.dot.SetStatus(st)
	setRichText(p.presence, text)
	if st == presence.Offline {
		p.callBtn.Disable()
	} else {
		p.callBtn.Enable()
	}
}

// reload reads the conversation again (off Fyne's goroutine) and shows
// it; toBottom scrolls to the newest.
func (p *chatPane) reload(toBottom bool) {
	p.gen++
	gen, user := p.gen, p.user
	p.u.async(func(context.Context) {
		msgs, err := p.u.client.Conversation(user, historyLimit)
		p.u.post(func() {
			if p.gen != gen || p.user != user {
				return
			}
			if err != nil {
				p.warn("Cannot read the conversation: " + firstLine(err.Error()))
				return
			}
			grew := len(msgs) > len(p.msgs) || len(msgs) > 0 && len(p.msgs) > 0 && msgs[len(msgs)-1].ID != p.msgs[len(p.msgs)-1].ID
			p.msgs = msgs
			p.rebuild(toBottom || grew)
		})
	})
}

// add shows m at once (a message just sent), before the history is read
// again.
func (p *chatPane) add(m chat.Message) {
	if m.Peer != p.user || slices.ContainsFunc(p.msgs, func(x chat.Message) bool { return x.ID == m.ID }) {
		return
	}
	p.gen++ // a read started before the send would not have it
	p.msgs = append(p.msgs, m)
	p.rebuild(true)
}

// rebuild lays out the messages and the files with p.user by time, with
// a line at each new day.
func (p *chatPane) rebuild(toBottom bool) {
	type item struct {
		at  time.Time
		obj fyne.CanvasObject
	}
	var items []item
	for _, m := range p.msgs {
		b := p.bubbles[m.ID]
		if b == nil {
			b = newBubble()
			p.bubbles[m.ID] = b
		}
		b.set(m, p.u.mailed[m.ID])
		items = append(items, item{m.Time, b})
	}
	for _, e := range p.u.files {
		if e.info.User != p.user {
			continue
		}
		r := p.files[e.info.ID]
		if r == nil {
			r = newFileRow(p.u)
			p.files[e.info.ID] = r
		}
		r.set(e)
		items = append(items, item{e.seen, r})
	}
	slices.SortStableFunc(items, func(a, b item) int { return a.at.Compare(b.at) })
	objs := make([]fyne.CanvasObject, 0, len(items)+4)
	var last time.Time
	now := p.u.now()
	for _, it := range items {
		if last.IsZero() || !sameDay(it.at.Local(), last.Local()) {
			objs = append(objs, daySeparator(it.at.Local(), now.Local()))
		}
		last = it.at
		objs = append(objs, it.obj)
	}
	p.column.Objects = objs
	if len(items) == 0 {
		p.empty.Show()
	} else {
		p.empty.Hide()
	}
	if w := p.scroll.Size().Width; w > 0 {
		p.layout.width = w - 6*theme.Padding()
	}
	p.column.Refresh()
	p.scroll.Refresh()
	if toBottom {
		p.scroll.ScrollToBottom()
	}
}

// refreshFiles redraws the files with p.user, adding new ones.
func (p *chatPane) refreshFiles() {
	for id, r := range p.files {
		if e := p.u.files[id]; e != nil {
			r.set(e)
		}
	}
	n := 0
	for _, e := range p.u.files {
		if e.info.User == p.user {
			n++
		}
	}
	if n != len(p.files) {
		p.rebuild(true)
		return
	}
	// A row's height changes with its buttons and lines.
	p.column.Refresh()
	p.scroll.Refresh()
}

// sendTapped sends what the box holds.
func (p *chatPane) sendTapped() {
	text := strings.TrimSpace(p.entry.Text)
	if text == "" || p.user == "" {
		return
	}
	user := p.user
	p.entry.SetText("")
	p.stopTyping()
	if p.warning.Visible() {
		p.warning.Hide()
		p.relayout()
	}
	p.u.async(func(context.Context) {
		m, err := p.u.client.SendMessage(user, text)
		p.u.post(func() {
			if p.user != user {
				return
			}
			if err != nil {
				p.warn("Not sent: " + firstLine(err.Error()))
				if p.entry.Text == "" {
					p.entry.SetText(text)
				}
				return
			}
			p.add(m)
		})
	})
}

// edited tells the buddy that this user is typing, at most every
// typingEvery, and that they stopped when the box is empty again.
func (p *chatPane) edited(text string) {
	if p.user == "" {
		return
	}
	if strings.TrimSpace(text) == "" {
		p.stopTyping()
		return
	}
	now := time.Now()
	if now.Sub(p.typingSent) < typingEvery {
		return
	}
	p.typingSent = now
	user := p.user
	p.u.async(func(context.Context) { p.u.client.SetTyping(user, true) })
}

// stopTyping tells the buddy this user stopped, if they were told
// otherwise.
func (p *chatPane) stopTyping() {
	if p.typingSent.IsZero() || p.user == "" {
		return
	}
	p.typingSent = time.Time{}
	user := p.user
	p.u.async(func(context.Context) { p.u.client.SetTyping(user, false) })
}

// setTyping shows or hides "user is typing…".
func (p *chatPane) setTyping(user string, on bool) {
	if user != p.user {
		return
	}
	if on {
		p.typingAt = time.Now()
		setRichText(p.typing, user+" is typing…")
		p.typing.Show()
	} else {
		p.typing.Hide()
	}
	p.relayout()
}

// relayout fits the pane around a line shown or hidden.
func (p *chatPane) relayout() {
	p.root.(*fyne.Container).Refresh()
}

// tick hides a "typing…" whose end was lost.
func (p *chatPane) tick() {
	if p.typing.Visible() && time.Since(p.typingAt) > typingStale {
		p.typing.Hide()
		p.relayout()
	}
}

func (p *chatPane) warn(text string) {
	p.warning.SetText(text)
	p.warning.Show()
	p.relayout()
}

// messageReceived takes a message from a buddy: into the open pane, or
// counted on the buddy's row.
func (u *UI) messageReceived(m chat.Message) {
	if u.chat.isOpen(m.Peer) {
		u.chat.setTyping(m.Peer, false)
		u.chat.reload(false)
		return
	}
	u.unread[m.Peer]++
	u.home.list.Refresh()
	if _, ok := u.home.contact(m.Peer); !ok {
		u.home.notice(m.Peer + " sent you a message")
	}
}

// messageChanged: a message to user was delivered or left on the ring.
func (u *UI) messageChanged(user string, id [16]byte, mailed bool) {
	if mailed {
		u.mailed[id] = true
	}
	if u.chat.user == user {
		u.chat.reload(false)
	}
}

// chatEntry is the box a message is written in: Enter sends, Shift+Enter
// starts a new line.
type chatEntry struct {
	widget.Entry
	shift  bool
	onSend func()
}

func newChatEntry(onSend func()) *chatEntry {
	e := &chatEntry{onSend: onSend}
	e.MultiLine = true
	e.Wrapping = fyne.TextWrapWord
	e.ExtendBaseWidget(e)
	e.SetMinRowsVisible(2)
	return e
}

func (e *chatEntry) KeyDown(k *fyne.KeyEvent) {
	if k.Name == desktop.KeyShiftLeft || k.Name == desktop.KeyShiftRight {
		e.shift = true
	}
	e.Entry.KeyDown(k)
}

func (e *chatEntry) KeyUp(k *fyne.KeyEvent) {
	if k.Name == desktop.KeyShiftLeft || k.Name == desktop.KeyShiftRight {
		e.shift = false
	}
	e.Entry.KeyUp(k)
}

func (e *chatEntry) TypedKey(k *fyne.KeyEvent) {
	if (k.Name == fyne.KeyReturn || k.Name == fyne.KeyEnter) && !e.shift {
		e.onSend()
		return
	}
	e.Entry.TypedKey(k)
}
