package ui

import (
	"errors"
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"soitto/app"
	"soitto/assets"
	"soitto/bootstrap"
)

// signInWidth is the widest the sign-in card grows.
const signInWidth = 380

// signInScreen asks for a username and password, and logs in or creates
// an account. Its fields are used on Fyne's goroutine only.
type signInScreen struct {
	u    *UI
	root fyne.CanvasObject

	user, password *widget.Entry
	loginBtn       *widget.Button
	createBtn      *widget.Button
	errLabel       *widget.Label // the last error, in the error colour
	errRow         *fyne.Container
	activity       *widget.Activity
	status         *widget.Label // what the request in flight is doing
	busyRow        *fyne.Container
	network        *widget.RichText

	busy bool
}

func newSignInScreen(u *UI) *signInScreen {
	s := &signInScreen{u: u}

	logo := canvas.NewImageFromResource(assets.Icon)
	logo.FillMode = canvas.ImageFillContain
	logo.SetMinSize(fyne.NewSquareSize(88))
	title := widget.NewLabelWithStyle("Soitto", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameHeadingText
	tagline := newMuted("Calls, chat and files, peer to peer", theme.SizeNameText, fyne.TextAlignCenter)

	s.user = widget.NewEntry()
	s.user.SetPlaceHolder("e.g. alice")
	s.user.OnSubmitted = func(string) { s.u.win.Canvas().Focus(s.password) }
	s.user.OnChanged = func(string) { s.clearError() }
	s.password = widget.NewPasswordEntry()
	s.password.SetPlaceHolder("Password")
	s.password.OnSubmitted = func(string) { s.submit(false) }
	s.password.OnChanged = func(string) { s.clearError() }

	s.loginBtn = widget.NewButton("Log in", func() { s.submit(false) })
	s.loginBtn.Importance = widget.HighImportance
	s.createBtn = widget.NewButton("Create account", func() { s.submit(true) })

	s.errLabel = widget.NewLabel("")
	s.errLabel.Importance = widget.DangerImportance
	s.errLabel.Wrapping = fyne.TextWrapWord
	errIcon := widget.NewIcon(theme.NewErrorThemedResource(theme.ErrorIcon()))
	// The icon sits by the first line when a long error wraps.
	s.errRow = container.NewBorder(nil, nil,
		container.New(layout.NewCustomPaddedLayout(theme.InnerPadding(), 0, 0, 0), container.NewVBox(errIcon)),
		nil, s.errLabel)
	s.errRow.Hide()
	s.activity = widget.NewActivity()
	s.status = widget.NewLabel("")
	s.busyRow = container.NewBorder(nil, nil, s.activity, nil, s.status)
	s.busyRow.Hide()
	// The message line keeps its height when empty, so that showing an
	// error does not move the buttons out from under the pointer.
	line := spacer(widget.NewLabel("Mg").MinSize().Height)

	pad := theme.Padding()
	form := container.New(layout.NewCustomPaddedVBoxLayout(2*pad),
		field("Username", s.user),
		container.New(layout.NewCustomPaddedVBoxLayout(0),
			field("Password", s.password),
			container.New(layout.NewCustomPaddedLayout(-pad, -pad, 0, 0),
				container.NewStack(line, s.errRow, s.busyRow))),
		container.New(layout.NewCustomPaddedVBoxLayout(2*pad), s.loginBtn, s.createBtn),
	)

	s.network = newMuted("", theme.SizeNameCaptionText, fyne.TextAlignCenter)
	s.network.Wrapping = fyne.TextWrapWord

	column := container.NewVBox(
		container.NewCenter(logo),
		container.New(layout.NewCustomPaddedVBoxLayout(-3*pad), title, tagline),
		spacer(3*pad),
		newCard(form),
		spacer(pad),
		s.network,
	)
	s.root = container.NewVScroll(container.New(layout.NewCustomPaddedLayout(4*pad, 4*pad, 5*pad, 5*pad),
		container.NewVBox(
			layout.NewSpacer(),
			container.New(maxWidth{signInWidth}, column),
			layout.NewSpacer(),
		)))
	return s
}

// field puts a small bold name above an entry.
func field(name string, e *widget.Entry) fyne.CanvasObject {
	l := widget.NewLabelWithStyle(name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.SizeName = theme.SizeNameCaptionText
	return container.New(layout.NewCustomPaddedVBoxLayout(-theme.Padding()), l, e)
}

// spacer is a fixed gap of height h.
func spacer(h float32) fyne.CanvasObject {
	r := canvas.NewRectangle(color.Transparent) // nil would stop the software painter
	r.SetMinSize(fyne.NewSize(0, h))
	return r
}

// submit checks the fields and starts a login, or a registration then a
// login.
func (s *signInScreen) submit(register bool) {
	if s.busy {
		return
	}
	user := strings.TrimSpace(s.user.Text)
	password := s.password.Text
	switch {
	case user == "" && password == "":
		s.showError("Enter a username and a password.")
		s.u.win.Canvas().Focus(s.user)
		return
	case user == "":
		s.showError("Enter your username.")
		s.u.win.Canvas().Focus(s.user)
		return
	case password == "":
		s.showError("Enter your password.")
		s.u.win.Canvas().Focus(s.password)
		return
	}
	s.clearError()
	if register {
		s.setBusy(true, "Creating account…")
	} else {
		s.setBusy(true, "Signing in…")
	}
	s.login(user, password, register)
}

// finish ends a request: on failure it shows why and keeps the username,
// on success it forgets the password (the LoggedIn event switches screens).
func (s *signInScreen) finish(err error) {
	s.setBusy(false, "")
	if err != nil {
		s.showError(err.Error())
		s.u.win.Canvas().Focus(s.password)
		return
	}
	s.password.SetText("")
	s.clearError()
}

func (s *signInScreen) setBusy(busy bool, status string) {
	s.busy = busy
	for _, w := range []fyne.Disableable{s.user, s.password, s.loginBtn, s.createBtn} {
		if busy {
			w.Disable()
		} else {
			w.Enable()
		}
	}
	if busy {
		s.status.SetText(status)
		s.busyRow.Show()
		s.activity.Start()
	} else {
		s.activity.Stop()
		s.busyRow.Hide()
	}
}

func (s *signInScreen) setStatus(status string) { s.status.SetText(status) }

func (s *signInScreen) showError(msg string) {
	s.errLabel.SetText(msg)
	s.errRow.Show()
}

func (s *signInScreen) clearError() {
	if s.errRow.Visible() {
		s.errLabel.SetText("")
		s.errRow.Hide()
	}
}

// errorText is the error on show, or "".
func (s *signInScreen) errorText() string {
	if !s.errRow.Visible() {
		return ""
	}
	return s.errLabel.Text
}

// reset makes the screen ready for the next login: keeps the username,
// drops the password and any message.
func (s *signInScreen) reset() {
	s.setBusy(false, "")
	s.password.SetText("")
	s.clearError()
}

// focus puts the cursor where typing should start.
func (s *signInScreen) focus() {
	if s.user.Text == "" {
		s.u.win.Canvas().Focus(s.user)
	} else {
		s.u.win.Canvas().Focus(s.password)
	}
}

// prefill puts the last user in the username field, unless someone has
// started typing.
func (s *signInScreen) prefill(user string) {
	if s.user.Text == "" && user != "" {
		s.user.SetText(user)
	}
	s.focus()
}

// networkInfo is the line under the card saying which network the app
// would log in to.
type networkInfo struct {
	text    string
	problem bool
}

func describeNetwork(n *bootstrap.Network, path string, err error) networkInfo {
	switch {
	case errors.Is(err, app.ErrNoNetwork):
		return networkInfo{"No network file found. Start Soitto with --network FILE or set SOITTO_NETWORK.", true}
	case err != nil:
		return networkInfo{"Network file " + path + ": " + err.Error(), true}
	case n.Name != "":
		return networkInfo{"Network “" + n.Name + "” · " + n.LoginURL, false}
	}
	return networkInfo{"Login server " + n.LoginURL, false}
}

func (s *signInScreen) setNetwork(info networkInfo) {
	seg := s.network.Segments[0].(*widget.TextSegment)
	if info.problem {
		seg.Style.ColorName = theme.ColorNameWarning
	} else {
		seg.Style.ColorName = theme.ColorNamePlaceHolder
	}
	setRichText(s.network, info.text)
}
