package ui

import (
	"context"
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"soitto/app"
)

// homeScreen is what a signed-in user sees: who they are and their
// status, a search box that finds people on the network, the contact
// list with everyone's presence, and the account's details.
type homeScreen struct {
	u    *UI
	root fyne.CanvasObject

	avatar     *avatar
	selfDot    *dot
	name       *widget.Label
	headerSub  *widget.RichText
	statusSel  *widget.Select
	logoutBtn  *widget.Button
	accountBtn *widget.Button
	account    *fyne.Container // the account details, shown in a dialog
	// settingStatus is set while the code, not the user, moves statusSel.
	settingStatus bool

	search *searchPanel

	contacts      []app.Contact
	list          *widget.List
	contactsEmpty fyne.CanvasObject
	contactsCount *widget.RichText

	signedInAs *widget.Label
	validUntil *widget.Label
	expiresIn  *widget.Label
	serial     *widget.Label
	server     *widget.Label
	superPeer  *widget.Label
	warning    *widget.Label

	net *netStatus

	mic, speaker *widget.Select // the call devices, in the account dialog
	privacy      *widget.Select // who sees the status and may call
	// settingPrivacy is set while the code, not the user, moves it.
	settingPrivacy bool
	// settingDevices is set while the code, not the user, moves them.
	settingDevices bool

	id        app.Identity // the session shown; zero when signed out
	connected string       // the super-peer attached to; "" when not
}

func newHomeScreen(u *UI) *homeScreen {
	h := &homeScreen{u: u}
	pad := theme.Padding()

	h.avatar = newAvatar(44)
	h.selfDot = newDot(15)
	h.selfDot.ring = colorNameCard
	badge := container.NewStack(h.avatar,
		container.NewVBox(layout.NewSpacer(), container.NewHBox(layout.NewSpacer(), h.selfDot)))
	h.name = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	h.name.SizeName = theme.SizeNameSubHeadingText
	h.name.Truncation = fyne.TextTruncateEllipsis
	h.headerSub = newMuted("", theme.SizeNameCaptionText, fyne.TextAlignLeading)
	h.headerSub.Truncation = fyne.TextTruncateEllipsis
	labels := make([]string, len(ownStatuses))
	for i, s := range ownStatuses {
		labels[i] = statusLabel(s)
	}
	h.statusSel = widget.NewSelect(labels, h.statusPicked)
	h.logoutBtn = widget.NewButtonWithIcon("", theme.LogoutIcon(), h.logoutTapped)
	h.logoutBtn.Importance = widget.LowImportance
	h.accountBtn = widget.NewButtonWithIcon("", theme.AccountIcon(), h.showAccount)
	h.accountBtn.Importance = widget.LowImportance
	header := newBar(container.NewBorder(nil, nil, container.NewCenter(badge),
		container.NewCenter(container.NewHBox(h.statusSel, h.accountBtn, h.logoutBtn)),
		container.NewVBox(layout.NewSpacer(),
			container.New(layout.NewCustomPaddedVBoxLayout(-4*pad), h.name, h.headerSub),
			layout.NewSpacer())))

	h.search = newSearchPanel(h)

	h.list = widget.NewList(
		func() int { return len(h.contacts) },
		func() fyne.CanvasObject { return newContactRow(h) },
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i < len(h.contacts) {
				o.(*contactRow).set(h.contacts[i])
			}
		})
	h.list.OnSelected = func(widget.ListItemID) { h.list.UnselectAll() }
	h.contactsEmpty = container.NewCenter(container.NewVBox(
		container.NewCenter(container.NewGridWrap(fyne.NewSquareSize(48),
			widget.NewIcon(theme.NewColoredResource(theme.AccountIcon(), theme.ColorNamePlaceHolder)))),
		widget.NewLabelWithStyle("No contacts yet", fyne.TextAlignCenter, fyne.TextStyle{Bold: true}),
		newMuted("Find someone by username above and add them.", theme.SizeNameText, fyne.TextAlignCenter),
	))
	h.contactsCount = newMuted("", theme.SizeNameCaptionText, fyne.TextAlignTrailing)
	contacts := newCard(container.NewStack(h.list, h.contactsEmpty))

	h.signedInAs = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	h.signedInAs.Truncation = fyne.TextTruncateEllipsis
	h.validUntil = widget.NewLabel("")
	h.validUntil.Wrapping = fyne.TextWrapWord
	h.expiresIn = widget.NewLabel("")
	h.serial = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	h.serial.SizeName = theme.SizeNameCaptionText
	h.serial.Truncation = fyne.TextTruncateEllipsis
	h.serial.Selectable = true
	h.server = widget.NewLabel("")
	h.server.Truncation = fyne.TextTruncateEllipsis
	h.server.Selectable = true
	h.superPeer = widget.NewLabel("")
	h.superPeer.Truncation = fyne.TextTruncateEllipsis
	h.warning = widget.NewLabel("")
	h.warning.Importance = widget.WarningImportance
	h.warning.Wrapping = fyne.TextWrapWord
	h.warning.Hide()
	h.net = newNetStatus()
	h.net.superPeer = widget.NewCheck("Act as a super-peer when possible", func(on bool) {
		h.u.async(func(context.Context) { h.u.client.SetPromotionConsent(on) })
	})
	details := container.New(layout.NewFormLayout(),
		fieldName("Certificate until"), h.validUntil,
		fieldName("Expires in"), h.expiresIn,
		fieldName("Serial"), h.serial,
		fieldName("Login server"), h.server,
		fieldName("Super-peer"), h.superPeer,
		fieldName("NAT"), h.net.natType,
		fieldName("Public address"), h.net.mapped,
		fieldName("Relay"), h.net.relay,
	)
	echo := widget.NewCheck("Echo cancellation and noise suppression", func(on bool) {
		h.u.echo = on
		h.u.app.Preferences().SetBool(prefEcho, on)
	})
	echo.SetChecked(h.u.app.Preferences().BoolWithFallback(prefEcho, true))
	h.mic = widget.NewSelect(nil, func(string) { h.devicesPicked() })
	h.speaker = widget.NewSelect(nil, func(string) { h.devicesPicked() })
	sound := container.New(layout.NewFormLayout(),
		fieldName("Microphone"), h.mic,
		fieldName("Speaker"), h.speaker,
	)
	h.privacy = widget.NewSelect([]string{privacyContacts, privacyEveryone}, func(v string) {
		if h.settingPrivacy {
			return
		}
		p := app.PrivacyContacts
		if v == privacyEveryone {
			p = app.PrivacyEveryone
		}
		h.u.async(func(context.Context) {
			if err := h.u.client.SetPrivacy(p); err != nil {
				h.u.post(func() { h.warn(firstLine(err.Error())) })
			}
		})
	})
	privacy := container.New(layout.NewFormLayout(), fieldName("Status and calls"), h.privacy)
	h.account = container.NewVBox(h.signedInAs, widget.NewSeparator(), details, widget.NewSeparator(), privacy, h.net.superPeer,
		widget.NewSeparator(), sound, echo)

	body := container.NewBorder(
		container.NewVBox(
			h.search.root,
			spacer(theme.Padding()),
			container.NewBorder(nil, nil, nil, h.contactsCount, sectionTitle("Contacts")),
		),
		container.NewVBox(spacer(theme.Padding()), h.warning, h.net.root),
		nil, nil,
		contacts,
	)
	h.root = container.NewBorder(
		container.New(layout.NewCustomPaddedVBoxLayout(0), header, widget.NewSeparator()),
		nil, nil, nil,
		container.New(layout.NewCustomPaddedLayout(3*pad, 3*pad, 4*pad, 4*pad), body),
	)
	return h
}

// showAccount shows the account's details: the certificate, the login
// server and the super-peer.
func (h *homeScreen) showAccount() {
	h.loadDevices()
	h.settingPrivacy = true
	if h.u.client.Privacy() == app.PrivacyEveryone {
		h.privacy.SetSelected(privacyEveryone)
	} else {
		h.privacy.SetSelected(privacyContacts)
	}
	h.settingPrivacy = false
	// Scrolls when the window is shorter than the details.
	scroll := container.NewVScroll(h.account)
	win := h.u.win.Canvas().Size()
	scroll.SetMinSize(fyne.NewSize(0, min(h.account.MinSize().Height, win.Height-140)))
	d := dialog.NewCustom("Account", "Close", scroll, h.u.win)
	d.Resize(fyne.NewSize(min(win.Width-32, 400), 0))
	d.Show()
}

// The privacy menu's choices.
const (
	privacyContacts = "Contacts only"
	privacyEveryone = "Everyone"
)

// fieldName is the muted name of a detail in the session card.
func fieldName(text string) fyne.CanvasObject {
	return newMuted(text, theme.SizeNameText, fyne.TextAlignLeading)
}

// sectionTitle heads a part of the home screen.
func sectionTitle(text string) fyne.CanvasObject {
	l := widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.SizeName = theme.SizeNameSubHeadingText
	return l
}

// set shows the session id.
func (h *homeScreen) set(id app.Identity) {
	h.id = id
	h.avatar.SetName(id.Username)
	h.name.SetText(id.Username)
	h.signedInAs.SetText("Signed in as " + id.Username)
	h.validUntil.SetText(id.NotAfter.Local().Format("Mon 2 Jan 2006, 15:04 MST"))
	h.serial.SetText(id.Serial)
	h.server.SetText(id.LoginURL)
	h.logoutBtn.Enable()
	h.connected = ""
	h.superPeer.SetText("not connected")
	h.net.reset()
	h.net.superPeer.SetChecked(false)
	h.search.reset()
	h.setContacts(nil)
	h.tick()
}

// clear forgets the session shown.
func (h *homeScreen) clear() {
	h.id = app.Identity{}
	h.connected = ""
}

// tick redraws what depends on the clock.
func (h *homeScreen) tick() {
	if h.id.Username == "" {
		return
	}
	left := h.id.NotAfter.Sub(h.u.now())
	exp := expiresIn(left)
	h.expiresIn.SetText(exp)
	switch {
	case left <= 0:
		h.headerSub.Segments[0].(*widget.TextSegment).Style.ColorName = theme.ColorNameWarning
		setRichText(h.headerSub, "Certificate expired: log out and in again")
		h.expiresIn.Importance = widget.WarningImportance
	case !h.id.Valid:
		h.headerSub.Segments[0].(*widget.TextSegment).Style.ColorName = theme.ColorNameWarning
		setRichText(h.headerSub, "Certificate not valid on this network")
		h.expiresIn.Importance = widget.MediumImportance
	case h.connected == "":
		h.headerSub.Segments[0].(*widget.TextSegment).Style.ColorName = theme.ColorNamePlaceHolder
		setRichText(h.headerSub, "Connecting to the network…")
		h.expiresIn.Importance = widget.MediumImportance
	default:
		h.headerSub.Segments[0].(*widget.TextSegment).Style.ColorName = theme.ColorNamePlaceHolder
		setRichText(h.headerSub, statusLabel(h.selfStatus()))
		h.expiresIn.Importance = widget.MediumImportance
	}
	h.expiresIn.Refresh()
	if !h.id.Valid && left > 0 {
		h.warning.SetText("This certificate does not chain to the network's CA; peers will refuse it.")
		h.warning.Show()
	} else {
		h.warning.Hide()
	}
}

// logoutTapped disables the button until the LoggedOut event arrives.
func (h *homeScreen) logoutTapped() {
	h.logoutBtn.Disable()
	h.logout()
}

// expiresIn says how long a certificate has left, to the minute.
func expiresIn(d time.Duration) string {
	switch {
	case d <= 0:
		return "expired"
	case d < time.Minute:
		return "less than a minute"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	}
	return fmt.Sprintf("%dh %dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
}
