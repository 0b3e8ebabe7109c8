// Package ui is Soitto's window: Fyne screens over the client core in
// soitto/app. It is only a view: it does no network or disk I/O itself,
// calls the client from goroutines, and changes widgets only on Fyne's
// goroutine (bridge.go is where the two meet), so the same core can be
// driven from the terminal and tested without a screen.
package ui

import (
	"context"
	"net/url"
	"sync"
	"time"

	"fyne.io/fyne/v2"

	"soitto/app"
)

// UI is the Soitto window's content: the sign-in screen and, once signed
// in, the home screen. Its methods run on Fyne's goroutine.
type UI struct {
	app    fyne.App
	win    fyne.Window
	client *app.Client
	// do runs f on Fyne's goroutine: fyne.Do, except in tests, which run
	// their own main loop.
	do  func(f func())
	now func() time.Time

	ctx    context.Context // ended by Close; every request runs under it
	cancel context.CancelFunc
	wg     sync.WaitGroup // the bridge and requests in flight
	unsub  func()

	signIn *signInScreen
	home   *homeScreen
	call   *callView
	ring   *incoming         // the incoming call's dialog, if one rings
	shown  fyne.CanvasObject // the screen in the window
	// echo: echo cancellation, noise suppression and level control on
	// the system's devices (the account dialog's setting).
	echo bool
	// devices opens a call's sound devices: the system's (tests use
	// tones).
	devices func(echo bool) app.AudioDevices

	chat   *chatPane
	unread map[string]int        // messages and offers received while their conversation was closed
	mailed map[[16]byte]bool     // own messages left on the ring (this run)
	files  map[string]*fileEntry // file transfers, by ID; finished ones stay
	offers map[string]*offerPrompt
	// syncing: a read of the client's transfers is running; syncAgain
	// asks for one more after it.
	syncing, syncAgain bool
	localSeq           int // numbers the files still being prepared

	// openURL opens a link with the system (tests record it instead).
	openURL func(*url.URL) error
	// pickFile and pickFolder ask the user for a file to send and a
	// folder to save into; done gets "" if they cancel (tests answer
	// themselves).
	pickFile   func(done func(path string))
	pickFolder func(start string, done func(dir string))
}

// New builds Soitto's screens into w for client c, sets Soitto's theme on
// a, and starts following c's events. It shows the home screen if c is
// already logged in, else the sign-in screen. Call Close when the window
// is gone.
func New(a fyne.App, w fyne.Window, c *app.Client) *UI {
	return newUI(a, w, c, fyne.Do)
}

func newUI(a fyne.App, w fyne.Window, c *app.Client, do func(func())) *UI {
	u := &UI{app: a, win: w, client: c, do: do, now: time.Now}
	u.ctx, u.cancel = context.WithCancel(context.Background())
	a.Settings().SetTheme(Theme())
	w.SetPadded(false) // the screens pad themselves; the home header runs edge to edge
	u.signIn = newSignInScreen(u)
	u.home = newHomeScreen(u)
	u.call = newCallView(u)
	u.chat = newChatPane(u)
	u.resetChat()
	u.openURL = a.OpenURL
	u.pickFile = u.pickFileDialog
	u.pickFolder = u.pickFolderDialog
	u.devices = c.SystemDevices
	u.restoreDevices()
	u.echo = a.Preferences().BoolWithFallback(prefEcho, true)
	u.show(u.signIn.root)
	u.startBridge()
	return u
}

// Close stops following the client and cancels requests in flight, and
// waits for them. It does not log out.
func (u *UI) Close() {
	u.cancel()
	u.wg.Wait()
	u.unsub()
}

// show puts screen in the window, unless it is there already.
func (u *UI) show(screen fyne.CanvasObject) {
	if u.shown == screen {
		return
	}
	u.shown = screen
	u.win.SetContent(screen)
}

// showSignIn switches to the sign-in screen, ready for the next login.
func (u *UI) showSignIn() {
	u.home.clear()
	u.resetChat()
	u.signIn.reset()
	u.show(u.signIn.root)
	u.signIn.focus()
	u.signIn.refreshNetwork()
}

// showHome switches to the home screen for the session id.
func (u *UI) showHome(id app.Identity) {
	u.home.set(id)
	u.show(u.home.root)
	u.goOnline()
}

// resetChat forgets the session's conversations and files.
func (u *UI) resetChat() {
	u.chat.reset()
	for _, o := range u.offers {
		o.dismiss()
	}
	u.unread = map[string]int{}
	u.mailed = map[[16]byte]bool{}
	u.files = map[string]*fileEntry{}
	u.offers = map[string]*offerPrompt{}
}

// prefEcho is the preference that keeps the echo setting.
const prefEcho = "echo-cancellation"

// SignedIn reports whether the home screen is showing.
func (u *UI) SignedIn() bool { return u.shown == u.home.root }
