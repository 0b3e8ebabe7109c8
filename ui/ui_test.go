package ui

import (
	"context"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"go.uber.org/goleak"

	"soitto/app"
	"soitto/app/profile"
	"soitto/login/logintest"
)

// waitFor bounds every wait on the client and the login server.
const waitFor = 10 * time.Second

// mainLoop stands in for Fyne's goroutine: the UI hands it work with do,
// and the test goroutine runs that work while it waits, so widgets are
// only ever touched by the test goroutine (the test driver's fyne.Do
// would run them on the caller's goroutine, racing the test).
type mainLoop struct{ q chan func() }

func newMainLoop() *mainLoop { return &mainLoop{q: make(chan func(), 1024)} }

func (m *mainLoop) do(f func()) { m.q <- f }

// until runs queued UI work until cond holds, for at most waitFor.
func (m *mainLoop) until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(waitFor)
	defer deadline.Stop()
	for {
		for drained := false; !drained; {
			select {
			case f := <-m.q:
				f()
			default:
				drained = true
			}
		}
		if cond() {
			return
		}
		select {
		case f := <-m.q:
			f()
		case <-time.After(10 * time.Millisecond):
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for %s", waitFor, what)
		}
	}
}

type harness struct {
	ui     *UI
	loop   *mainLoop
	client *app.Client
	env    *logintest.Env
	win    fyne.Window
}

var fastKDF = profile.KDF{Memory: 1024, Time: 1, Threads: 1}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newClient returns a client of env with its own profiles folder.
func newClient(t *testing.T, env *logintest.Env) *app.Client {
	t.Helper()
	c, err := app.New(app.Config{ProfilesDir: t.TempDir(), Network: env.NetworkPath, KDF: fastKDF, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// start shows the UI for c in a 420×640 test window and waits until the
// sign-in screen knows its network.
func start(t *testing.T, env *logintest.Env, c *app.Client) *harness {
	t.Helper()
	a := test.NewTempApp(t)
	w := test.NewTempWindow(t, widget.NewLabel(""))
	w.Resize(fyne.NewSize(420, 640))
	h := &harness{loop: newMainLoop(), client: c, env: env, win: w}
	h.ui = newUI(a, w, c, h.loop.do)
	t.Cleanup(func() {
		h.ui.Close()
		c.Logout()
	})
	h.loop.until(t, "the network line", func() bool { return richText(h.ui.signIn.network) != "" })
	return h
}

func setup(t *testing.T) *harness {
	t.Helper()
	checkGoroutines(t)
	env := logintest.Serve(t)
	return start(t, env, newClient(t, env))
}

// checkGoroutines, called first thing in a test, fails the test
// if goroutines it started outlive it.
func checkGoroutines(t *testing.T) {
	opts := []goleak.Option{goleak.IgnoreCurrent()}
	t.Cleanup(func() {
		// Idle HTTP connections close a moment after the server stops.
		var err error
		for range 50 {
			if err = goleak.Find(opts...); err == nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Errorf("leaked goroutines: %v", err)
	})
}

func (h *harness) fill(user, password string) {
	s := h.ui.signIn
	s.user.SetText("")
	s.password.SetText("")
	test.Type(s.user, user)
	test.Type(s.password, password)
}

func (h *harness) errorShown(t *testing.T) string {
	t.Helper()
	s := h.ui.signIn
	h.loop.until(t, "an error on the sign-in screen", func() bool { return s.errorText() != "" && !s.busy })
	t.Logf("error shown: %s", s.errorText())
	return s.errorText()
}

func TestCreateAccountLogsIn(t *testing.T) {
	h := setup(t)
	s := h.ui.signIn
	if got, want := richText(s.network), h.env.Network.LoginURL; !strings.Contains(got, want) {
		t.Errorf("network line %q, want it to show %q", got, want)
	}

	h.fill("alice", "correct horse battery")
	test.Tap(s.createBtn)
	if !s.loginBtn.Disabled() || !s.createBtn.Disabled() || !s.busyRow.Visible() {
		t.Errorf("while registering: login disabled %v, create disabled %v, activity shown %v; want all true",
			s.loginBtn.Disabled(), s.createBtn.Disabled(), s.busyRow.Visible())
	}
	h.loop.until(t, "the home screen", h.ui.SignedIn)

	id, ok := h.client.Session()
	if !ok {
		t.Fatal("home screen shown without a session")
	}
	hs := h.ui.home
	if got, want := hs.name.Text, "alice"; got != want {
		t.Errorf("header name %q, want %q", got, want)
	}
	if got, want := hs.signedInAs.Text, "Signed in as alice"; got != want {
		t.Errorf("session card %q, want %q", got, want)
	}
	if got := hs.expiresIn.Text; !regexp.MustCompile(`^2[34]h \d{1,2}m$`).MatchString(got) {
		t.Errorf("expires in %q, want about 24h", got)
	}
	if got, want := hs.validUntil.Text, id.NotAfter.Local().Format("Mon 2 Jan 2006, 15:04 MST"); got != want {
		t.Errorf("valid until %q, want %q", got, want)
	}
	if got, want := hs.serial.Text, id.Serial; got != want || got == "" {
		t.Errorf("serial %q, want %q", got, want)
	}
	if got, want := hs.server.Text, h.env.Network.LoginURL; got != want {
		t.Errorf("login server %q, want %q", got, want)
	}
	if s.password.Text != "" {
		t.Error("password still in its field after signing in")
	}

	// The clock moves on: the expiry counts down, then says so.
	h.ui.now = func() time.Time { return id.NotAfter.Add(-90 * time.Minute) }
	hs.tick()
	if got, want := hs.expiresIn.Text, "1h 30m"; got != want {
		t.Errorf("90 minutes before expiry: expires in %q, want %q", got, want)
	}
	h.ui.now = func() time.Time { return id.NotAfter.Add(time.Second) }
	hs.tick()
	if got, want := hs.expiresIn.Text, "expired"; got != want {
		t.Errorf("after expiry: expires in %q, want %q", got, want)
	}
	if got := richText(hs.headerSub); !strings.Contains(got, "expired") {
		t.Errorf("header after expiry %q, want it to say the certificate expired", got)
	}

	test.Tap(hs.logoutBtn)
	h.loop.until(t, "the sign-in screen after logging out", func() bool { return !h.ui.SignedIn() })
	if _, ok := h.client.Session(); ok {
		t.Error("still logged in after Log out")
	}
	if got, want := s.user.Text, "alice"; got != want {
		t.Errorf("username after logging out %q, want %q", got, want)
	}
	if s.password.Text != "" || s.errorText() != "" || s.loginBtn.Disabled() {
		t.Errorf("sign-in screen not reset: password %q, error %q, login disabled %v",
			s.password.Text, s.errorText(), s.loginBtn.Disabled())
	}
}

func TestEnterInPasswordLogsIn(t *testing.T) {
	h := setup(t)
	if _, err := h.client.Register(context.Background(), "bob", "hunter2hunter2"); err != nil {
		t.Fatal(err)
	}
	h.fill("bob", "hunter2hunter2")
	h.ui.signIn.password.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	h.loop.until(t, "the home screen", h.ui.SignedIn)
	if got, want := h.ui.home.name.Text, "bob"; got != want {
		t.Errorf("header name %q, want %q", got, want)
	}
}

func TestWrongPasswordStaysOnSignIn(t *testing.T) {
	for _, tc := range []struct {
		name         string
		localProfile bool // the account's profile is on this machine
		want         string
	}{
		{"profile here", true, "wrong password"},
		{"no profile here", false, "wrong username or password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkGoroutines(t)
			env := logintest.Serve(t)
			c := newClient(t, env)
			registrar := c
			if !tc.localProfile {
				registrar = newClient(t, env)
			}
			if _, err := registrar.Register(context.Background(), "carol", "right password"); err != nil {
				t.Fatal(err)
			}
			h := start(t, env, c)
			h.fill("carol", "wrong password")
			test.Tap(h.ui.signIn.loginBtn)
			got := h.errorShown(t)
			if !strings.Contains(got, tc.want) {
				t.Errorf("error %q, want it to say %q", got, tc.want)
			}
			if h.ui.SignedIn() {
				t.Error("signed in with a wrong password")
			}
			s := h.ui.signIn
			if s.loginBtn.Disabled() || s.createBtn.Disabled() || s.busyRow.Visible() {
				t.Error("sign-in screen still busy after the error")
			}
			if got, want := s.user.Text, "carol"; got != want {
				t.Errorf("username after the error %q, want %q", got, want)
			}
		})
	}
}

func TestTakenNameShowsError(t *testing.T) {
	h := setup(t)
	if _, err := h.client.Register(context.Background(), "alice", "first one here"); err != nil {
		t.Fatal(err)
	}
	h.fill("Alice", "second one here")
	test.Tap(h.ui.signIn.createBtn)
	if got := h.errorShown(t); !strings.Contains(got, "taken") || !strings.Contains(got, "Alice") {
		t.Errorf("error %q, want the server's %q message", got, `username "Alice" is taken`)
	}
	if h.ui.SignedIn() {
		t.Error("signed in after a refused registration")
	}
}

func TestEmptyFieldsAreCheckedLocally(t *testing.T) {
	h := setup(t)
	s := h.ui.signIn
	for _, tc := range []struct {
		name, user, password, want string
	}{
		{"both empty", "", "", "Enter a username and a password."},
		{"no username", "", "secret", "Enter your username."},
		{"blank username", "   ", "secret", "Enter your username."},
		{"no password", "alice", "", "Enter your password."},
	} {
		for _, btn := range []*widget.Button{s.loginBtn, s.createBtn} {
			t.Run(tc.name+"/"+btn.Text, func(t *testing.T) {
				h.fill(tc.user, tc.password)
				test.Tap(btn)
				if s.busy {
					t.Fatal("a request started with an empty field")
				}
				if got := s.errorText(); got != tc.want {
					t.Errorf("error %q, want %q", got, tc.want)
				}
				test.Type(s.user, "x")
				if s.errorText() != "" {
					t.Error("error still shown after typing")
				}
			})
		}
	}
}

func TestPrefillsLastUser(t *testing.T) {
	checkGoroutines(t)
	env := logintest.Serve(t)
	c := newClient(t, env)
	if _, err := c.Register(context.Background(), "dave", "dave's password"); err != nil {
		t.Fatal(err)
	}
	h := start(t, env, c)
	h.loop.until(t, "the last user in the username field", func() bool { return h.ui.signIn.user.Text == "dave" })
}

func TestNoNetworkFile(t *testing.T) {
	checkGoroutines(t)
	t.Setenv("SOITTO_NETWORK", "")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	c, err := app.New(app.Config{ProfilesDir: t.TempDir(), KDF: fastKDF, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	h := start(t, nil, c)
	if got := richText(h.ui.signIn.network); !strings.Contains(got, "No network file") {
		t.Errorf("network line %q, want a note that no network file was found", got)
	}
	h.fill("erin", "erin's password")
	test.Tap(h.ui.signIn.loginBtn)
	if got := h.errorShown(t); !strings.Contains(got, "network") {
		t.Errorf("error %q, want it to explain the missing network file", got)
	}
}

func TestExpiresIn(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{24 * time.Hour, "24h 0m"},
		{24*time.Hour - 30*time.Second, "23h 59m"},
		{90 * time.Minute, "1h 30m"},
		{59*time.Minute + 59*time.Second, "59m"},
		{30 * time.Second, "less than a minute"},
		{0, "expired"},
		{-time.Hour, "expired"},
	} {
		if got := expiresIn(tc.d); got != tc.want {
			t.Errorf("expiresIn(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
