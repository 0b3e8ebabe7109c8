package ui

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"soitto/app"
)

// homeScreen is what a signed-in user sees: who they are, their session,
// and the place the contact list will take.
type homeScreen struct {
	u    *UI
	root fyne.CanvasObject

	avatar     *avatar
	name       *widget.Label
	headerSub  *widget.RichText
	signedInAs *widget.Label
	validUntil *widget.Label
	expiresIn  *widget.Label
	serial     *widget.Label
	server     *widget.Label
	warning    *widget.Label
	logoutBtn  *widget.Button

	id app.Identity // the session shown; zero when signed out
}

func newHomeScreen(u *UI) *homeScreen {
	h := &homeScreen{u: u}

	h.avatar = newAvatar(44)
	h.name = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	h.name.SizeName = theme.SizeNameSubHeadingText
	h.name.Truncation = fyne.TextTruncateEllipsis
	h.headerSub = newMuted("", theme.SizeNameCaptionText, fyne.TextAlignLeading)
	h.headerSub.Truncation = fyne.TextTruncateEllipsis
	pad := theme.Padding()
	header := newBar(container.NewBorder(nil, nil, container.NewCenter(h.avatar), nil,
		container.NewVBox(layout.NewSpacer(),
			container.New(layout.NewCustomPaddedVBoxLayout(-4*pad), h.name, h.headerSub),
			layout.NewSpacer())))

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
	h.warning = widget.NewLabel("")
	h.warning.Importance = widget.WarningImportance
	h.warning.Wrapping = fyne.TextWrapWord
	h.warning.Hide()
	h.logoutBtn = widget.NewButtonWithIcon("Log out", theme.LogoutIcon(), h.logoutTapped)

	details := container.New(layout.NewFormLayout(),
		fieldName("Valid until"), h.validUntil,
		fieldName("Expires in"), h.expiresIn,
		fieldName("Serial"), h.serial,
		fieldName("Login server"), h.server,
	)
	session := newCard(container.NewVBox(
		container.NewBorder(nil, nil, nil, h.logoutBtn, h.signedInAs),
		widget.NewSeparator(),
		details,
		h.warning,
	))

	contacts := newCard(container.NewCenter(container.NewVBox(
		container.NewCenter(container.NewGridWrap(fyne.NewSquareSize(48),
			widget.NewIcon(theme.NewColoredResource(theme.AccountIcon(), theme.ColorNamePlaceHolder)))),
		widget.NewLabelWithStyle("No contacts yet", fyne.TextAlignCenter, fyne.TextStyle{Bold: true}),
		newMuted("Contacts will appear here.", theme.SizeNameText, fyne.TextAlignCenter),
	)))

	body := container.NewBorder(
		container.NewVBox(
			session,
			spacer(theme.Padding()),
			sectionTitle("Contacts"),
		),
		nil, nil, nil,
		contacts,
	)
	h.root = container.NewBorder(
		container.New(layout.NewCustomPaddedVBoxLayout(0), header, widget.NewSeparator()),
		nil, nil, nil,
		container.New(layout.NewCustomPaddedLayout(4*pad, 4*pad, 4*pad, 4*pad), body),
	)
	return h
}

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
	h.tick()
}

// clear forgets the session shown.
func (h *homeScreen) clear() { h.id = app.Identity{} }

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
	default:
		h.headerSub.Segments[0].(*widget.TextSegment).Style.ColorName = theme.ColorNamePlaceHolder
		setRichText(h.headerSub, "Signed in")
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
