package ui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"soitto/app"
	"soitto/overlay/presence"
	"soitto/overlay/search"
)

// selfStatus is the status the menu shows.
func (h *homeScreen) selfStatus() presence.Status {
	for _, s := range ownStatuses {
		if statusLabel(s) == h.statusSel.Selected {
			return s
		}
	}
	return presence.Online
}

// setOwnStatus shows st as the user's status without acting on it.
func (h *homeScreen) setOwnStatus(st presence.Status) {
	h.settingStatus = true
	h.statusSel.SetSelected(statusLabel(st))
	h.settingStatus = false
	if h.connected == "" {
		h.selfDot.SetStatus(presence.Offline)
	} else {
		h.selfDot.SetStatus(st.Published())
	}
	h.tick()
}

// statusPicked is the status menu's callback.
func (h *homeScreen) statusPicked(label string) {
	if h.settingStatus || h.id.Username == "" {
		return
	}
	st := h.selfStatus()
	if h.connected != "" {
		h.selfDot.SetStatus(st.Published())
	}
	h.tick()
	h.u.async(func(context.Context) {
		if err := h.u.client.SetStatus(st); err != nil {
			h.u.post(func() { h.warn(fmt.Sprintf("Could not change the status: %v", err)) })
		}
	})
}

// setConnected shows whether the client is attached, and where.
func (h *homeScreen) setConnected(superPeer string) {
	h.connected = superPeer
	if superPeer == "" {
		h.superPeer.SetText("not connected")
		h.selfDot.SetStatus(presence.Offline)
	} else {
		h.superPeer.SetText(superPeer)
		h.selfDot.SetStatus(h.selfStatus().Published())
	}
	h.tick()
}

func (h *homeScreen) warn(text string) {
	h.warning.Importance = widget.WarningImportance
	h.warning.SetText(text)
	h.warning.Show()
}

// notice shows news that is not a problem (until the next clock tick).
func (h *homeScreen) notice(text string) {
	h.warning.Importance = widget.HighImportance
	h.warning.SetText(text)
	h.warning.Show()
}

// setContacts replaces the list shown.
func (h *homeScreen) setContacts(cs []app.Contact) {
	h.contacts = slices.Clone(cs)
	slices.SortStableFunc(h.contacts, func(a, b app.Contact) int {
		// Requests to answer first, then online people, then by name.
		if d := rank(a) - rank(b); d != 0 {
			return d
		}
		return strings.Compare(a.Name, b.Name)
	})
	online, contacts := 0, 0
	for _, c := range h.contacts {
		if c.State != app.StateContact {
			continue
		}
		contacts++
		if c.Status != presence.Offline {
			online++
		}
	}
	if len(h.contacts) == 0 {
		h.contactsEmpty.Show()
		h.list.Hide()
		setRichText(h.contactsCount, "")
	} else {
		h.contactsEmpty.Hide()
		h.list.Show()
		if contacts > 0 {
			setRichText(h.contactsCount, fmt.Sprintf("%d of %d online", online, contacts))
		} else {
			setRichText(h.contactsCount, "")
		}
	}
	h.list.Refresh()
	h.search.refreshAdd()
}

// rank orders the list: requests to answer, online contacts, offline
// ones, requests sent, blocked users.
func rank(c app.Contact) int {
	switch {
	case c.State == app.StatePending:
		return 0
	case c.State == app.StateContact && c.Status != presence.Offline:
		return 1
	case c.State == app.StateContact:
		return 2
	case c.State == app.StateRequested:
		return 3
	}
	return 4
}

// updateContact takes one contact's new presence.
func (h *homeScreen) updateContact(c app.Contact) {
	cs := slices.Clone(h.contacts)
	i := slices.IndexFunc(cs, func(x app.Contact) bool { return x.Name == c.Name })
	if i < 0 {
		return
	}
	cs[i] = c
	h.setContacts(cs)
}

// contact returns the shown contact called name.
func (h *homeScreen) contact(name string) (app.Contact, bool) {
	i := slices.IndexFunc(h.contacts, func(x app.Contact) bool { return x.Name == name })
	if i < 0 {
		return app.Contact{}, false
	}
	return h.contacts[i], true
}

// contactRow is one line of the contact list: a contact with their
// presence and a call button, or a request to answer, or one sent.
type contactRow struct {
	widget.BaseWidget
	h       *homeScreen
	name    string
	dot     *dot
	label   *widget.Label
	status  *widget.RichText
	call    *widget.Button
	chat    *widget.Button
	unread  *pill
	accept  *widget.Button
	decline *widget.Button
	more    *widget.Button
}

func newContactRow(h *homeScreen) *contactRow {
	r := &contactRow{h: h, dot: newDot(12)}
	r.label = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	r.label.Truncation = fyne.TextTruncateEllipsis
	r.status = newMuted("", theme.SizeNameCaptionText, fyne.TextAlignLeading)
	r.status.Truncation = fyne.TextTruncateEllipsis
	r.more = widget.NewButtonWithIcon("", theme.MoreVerticalIcon(), func() { h.showContact(r.name) })
	r.more.Importance = widget.LowImportance
	r.call = widget.NewButtonWithIcon("", iconPhone, func() { h.u.startCall(r.name) })
	r.call.Importance = widget.LowImportance
	r.chat = widget.NewButtonWithIcon("", iconChat, func() { h.u.openChat(r.name) })
	r.chat.Importance = widget.LowImportance
	r.unread = newPill()
	r.unread.Hide()
	r.accept = widget.NewButtonWithIcon("", theme.ConfirmIcon(), func() { h.contactAction("accept", r.name) })
	r.accept.Importance = widget.SuccessImportance
	r.decline = widget.NewButtonWithIcon("", theme.CancelIcon(), func() { h.contactAction("decline", r.name) })
	r.ExtendBaseWidget(r)
	return r
}

func (r *contactRow) set(c app.Contact) {
	r.name = c.Name
	r.dot.SetStatus(c.Status)
	r.label.SetText(c.Name)
	r.call.Hide()
	r.chat.Hide()
	r.unread.SetCount(r.h.u.unread[c.Name])
	r.accept.Hide()
	r.decline.Hide()
	var text string
	switch c.State {
	case app.StatePending:
		text = "Wants to be your contact"
		if c.Message != "" {
			text += ": “" + c.Message + "”"
		}
		r.accept.Show()
		r.decline.Show()
	case app.StateRequested:
		text = "Request sent · waiting for " + c.Name
	case app.StateBlocked:
		text = "Blocked"
	default:
		text = statusLabel(c.Status)
		if c.Checked.IsZero() {
			text = "Looking…"
		}
		if c.KeyChanged {
			text = "Key changed: check the safety number"
		}
		r.call.Show()
		r.chat.Show()
		if c.Status == presence.Offline {
			r.call.Disable()
		} else {
			r.call.Enable()
		}
	}
	setRichText(r.status, text)
}

func (r *contactRow) CreateRenderer() fyne.WidgetRenderer {
	pad := theme.Padding()
	text := container.New(layout.NewCustomPaddedVBoxLayout(-3*pad), r.label, r.status)
	return widget.NewSimpleRenderer(container.NewBorder(nil, nil,
		container.NewCenter(container.NewGridWrap(fyne.NewSquareSize(20), r.dot)),
		container.NewCenter(container.NewHBox(r.unread, r.accept, r.decline, r.chat, r.call, r.more)), text))
}

// contactAction runs a buddy-list action off Fyne's goroutine.
func (h *homeScreen) contactAction(action, name string) {
	h.u.async(func(context.Context) {
		if err := h.u.client.ContactAction(action, name, ""); err != nil {
			h.u.post(func() { h.warn(firstLine(err.Error())) })
		}
	})
}

func (h *homeScreen) confirmRemove(name string) {
	dialog.ShowConfirm("Remove contact", fmt.Sprintf("Remove %s from your contacts?", name), func(ok bool) {
		if !ok {
			return
		}
		h.u.async(func(context.Context) {
			if err := h.u.client.RemoveContact(name); err != nil {
				h.u.post(func() { h.warn(err.Error()) })
			}
		})
	}, h.u.win)
}

// searchPanel is the search box and what it found.
type searchPanel struct {
	h       *homeScreen
	root    fyne.CanvasObject
	entry   *widget.Entry
	button  *widget.Button
	result  *fyne.Container
	dot     *dot
	name    *widget.Label
	info    *widget.RichText
	addBtn  *widget.Button
	callBtn *widget.Button
	ask     *dialog.FormDialog // the request's message, while asked
	askMsg  *widget.Entry
	found   string // the user the result is about
	online  bool   // and they are online
	busy    bool
	lastErr string
}

func newSearchPanel(h *homeScreen) *searchPanel {
	p := &searchPanel{h: h, dot: newDot(12)}
	p.entry = widget.NewEntry()
	p.entry.SetPlaceHolder("Find someone by username")
	p.entry.OnSubmitted = func(string) { p.run() }
	p.button = widget.NewButtonWithIcon("", theme.SearchIcon(), p.run)
	p.button.Importance = widget.HighImportance
	p.name = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	p.name.Truncation = fyne.TextTruncateEllipsis
	p.info = newMuted("", theme.SizeNameCaptionText, fyne.TextAlignLeading)
	p.info.Wrapping = fyne.TextWrapWord
	p.addBtn = widget.NewButtonWithIcon("Add", theme.ContentAddIcon(), p.add)
	p.callBtn = widget.NewButtonWithIcon("", iconPhone, func() { h.u.startCall(p.found) })
	p.callBtn.Importance = widget.LowImportance
	pad := theme.Padding()
	p.result = container.NewBorder(nil, nil,
		container.NewCenter(container.NewGridWrap(fyne.NewSquareSize(20), p.dot)),
		container.NewCenter(container.NewHBox(p.callBtn, p.addBtn)),
		container.New(layout.NewCustomPaddedVBoxLayout(-3*pad), p.name, p.info))
	p.result.Hide()
	p.root = newCard(container.NewVBox(container.NewBorder(nil, nil, nil, p.button, p.entry), p.result))
	return p
}

func (p *searchPanel) reset() {
	p.entry.SetText("")
	p.found, p.online = "", false
	p.result.Hide()
}

// run searches for what the entry holds.
func (p *searchPanel) run() {
	user := strings.TrimSpace(p.entry.Text)
	if user == "" || p.busy {
		return
	}
	p.busy = true
	p.button.Disable()
	p.found, p.online = "", false
	p.name.SetText(user)
	p.dot.SetStatus(presence.Offline)
	setRichText(p.info, "Searching the network…")
	p.addBtn.Hide()
	p.result.Show()
	p.h.u.async(func(ctx context.Context) {
		res, err := p.h.u.client.Search(ctx, user)
		p.h.u.post(func() { p.show(user, res, err) })
	})
}

func (p *searchPanel) show(user string, res app.SearchResult, err error) {
	p.busy = false
	p.button.Enable()
	rounds := fmt.Sprintf("%d round%s, %d super-peer%s asked", res.Rounds, plural(res.Rounds), len(res.Asked), plural(len(res.Asked)))
	switch {
	case errors.Is(err, search.ErrNoSuchUser):
		p.found = res.User
		p.name.SetText(res.User)
		setRichText(p.info, "Not online · "+rounds)
	case errors.Is(err, app.ErrOffline):
		setRichText(p.info, "Not connected to the network yet; try again in a moment")
	case err != nil:
		setRichText(p.info, "Search failed: "+firstLine(err.Error()))
	default:
		p.found = res.User
		p.name.SetText(res.User)
		st := res.Status
		if !res.Found {
			st = presence.Offline
		}
		p.dot.SetStatus(st)
		p.online = st != presence.Offline
		setRichText(p.info, statusLabel(st)+" · "+rounds)
	}
	p.refreshAdd()
}

// refreshAdd shows Add for a user found who is not a contact yet, and
// Call for one who is online.
func (p *searchPanel) refreshAdd() {
	if p.found != "" && p.online && p.found != p.h.id.Username {
		p.callBtn.Show()
	} else {
		p.callBtn.Hide()
	}
	_, isContact := p.h.contact(p.found)
	if p.found == "" || isContact || p.found == p.h.id.Username {
		p.addBtn.Hide()
		return
	}
	p.addBtn.Show()
}

// add asks the user found to be a contact, with a short message.
func (p *searchPanel) add() {
	user := p.found
	msg := widget.NewEntry()
	msg.SetPlaceHolder("Hi, it's " + p.h.id.Username)
	msg.Validator = func(s string) error {
		if len(s) > app.MaxRequestMessage {
			return fmt.Errorf("at most %d bytes", app.MaxRequestMessage)
		}
		return nil
	}
	p.ask = dialog.NewForm("Ask "+user+" to be a contact", "Send request", "Cancel",
		[]*widget.FormItem{widget.NewFormItem("Message", msg)}, func(ok bool) {
			if !ok {
				return
			}
			text := msg.Text
			p.addBtn.Hide()
			p.h.u.async(func(context.Context) {
				if _, err := p.h.u.client.RequestContactWith(user, text); err != nil {
					p.h.u.post(func() { setRichText(p.info, "Could not ask: "+firstLine(err.Error())) })
					return
				}
				p.h.u.post(func() { setRichText(p.info, "Request sent to "+user) })
			})
		}, p.h.u.win)
	p.askMsg = msg
	p.ask.Resize(fyne.NewSize(min(p.h.u.win.Canvas().Size().Width-32, 360), 0))
	p.ask.Show()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
