package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"soitto/app/profile"
	"soitto/bootstrap"
	"soitto/internal/atomicfile"
	"soitto/internal/xdg"
	"soitto/login/ca"
	"soitto/login/client"
	"soitto/login/username"
	"soitto/overlay/presence"
)

// ErrNoNetwork is returned when no network file can be found.
var ErrNoNetwork = errors.New("no network file")

// ErrNotLoggedIn is returned by calls that need a session.
var ErrNotLoggedIn = errors.New("not logged in")

// currentFile, in the profiles folder, names the profile used last.
const currentFile = "current"

// Config configures a Client. Every field is optional.
type Config struct {
	// ProfilesDir holds one folder per user. If empty,
	// DataDir()/profiles.
	ProfilesDir string
	// Profile is an explicit profile folder (--profile); when set, it is
	// the only profile this client uses.
	Profile string
	// Network is an explicit network file (--network). If empty: the
	// profile's copy, then $SOITTO_NETWORK, then ConfigDir()/network.json.
	Network string
	// KDF is the cost of the password-derived key that encrypts the
	// identity key. If zero, profile.DefaultKDF.
	KDF profile.KDF
	// Logger; if nil, slog.Default().
	Logger *slog.Logger
	// Now is the clock; if nil, time.Now.
	Now func() time.Time
	// Overlay tunes the client on the overlay.
	Overlay OverlayConfig
	// Promotion says whether and when the client becomes a super-peer.
	Promotion PromotionConfig
	// RingTimeout is how long a call rings unanswered; if zero,
	// DefaultRingTimeout.
	RingTimeout time.Duration
	// Ringtone is a WAV file played on the system's speaker while an
	// incoming call rings; none if empty.
	Ringtone []byte
}

// Identity is who the client is logged in as, from its certificate.
type Identity struct {
	Username  string
	Serial    string
	NotBefore time.Time
	NotAfter  time.Time
	// Valid is false when the certificate has expired or does not chain to
	// the network's CA.
	Valid    bool
	LoginURL string
	Network  string // path of the network file in use
	Profile  string // profile folder
}

// Client is one user's Soitto client.
type Client struct {
	cfg    Config
	log    *slog.Logger
	events eventBus

	mu                   sync.Mutex // guards session, autoAnswer, micName, speakerName
	session              *session
	autoAnswer           AudioDevices
	micName, speakerName string // the system's devices for calls; "" default

	// traceSignal, if set (tests), sees every signal that reaches the
	// client, before anything is decided about it.
	traceSignal func(from, kind string, payload []byte)
}

type session struct {
	profile *profile.Profile
	key     *ecdsa.PrivateKey
	cert    *x509.Certificate
	ident   Identity

	status   presence.Status
	contacts []Contact
	buddies  buddies
	saveMu   sync.Mutex // one buddy-list save at a time
	online   *online    // nil when not on the overlay
	msg      *messaging // chat history and file transfers
}

// New returns a client; it touches no file and no network until asked.
func New(cfg Config) (*Client, error) {
	if cfg.ProfilesDir == "" && cfg.Profile == "" {
		d, err := xdg.DataDir()
		if err != nil {
			return nil, fmt.Errorf("finding the data folder: %w", err)
		}
		cfg.ProfilesDir = filepath.Join(d, "profiles")
	}
	if cfg.KDF == (profile.KDF{}) {
		cfg.KDF = profile.DefaultKDF
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Client{cfg: cfg, log: cfg.Logger.With("component", "app")}, nil
}

// Subscribe returns a channel of the client's events and a function that
// ends the subscription.
func (c *Client) Subscribe() (<-chan Event, func()) { return c.events.subscribe() }

// Register creates an account for user on the network's login server and a
// profile holding a new identity key encrypted under password. It returns
// the normalized username. It does not log in.
func (c *Client) Register(ctx context.Context, user, password string) (string, error) {
	n, npath, err := c.network(nil)
	if err != nil {
		return "", err
	}
	lc := client.New(n)
	defer lc.Close()
	name, err := lc.Register(ctx, user, password)
	if err != nil {
		return "", err
	}
	dir := c.profileDir(name)
	key, err := ca.GenerateKey()
	if err != nil {
		return name, err
	}
	if _, err := profile.Create(dir, name, password, c.cfg.KDF, n, key); err != nil {
		return name, fmt.Errorf("account %q registered, but the profile could not be made: %w", name, err)
	}
	c.setCurrent(name)
	c.log.Info("registered", "user", name, "profile", dir, "network", npath)
	return name, nil
}

// Login unlocks the profile of user (or of the current profile when user
// is empty) with password and asks the login server for a new certificate.
// A user with no profile on this machine gets a new one.
func (c *Client) Login(ctx context.Context, user, password string) (Identity, error) {
	name, err := c.resolveUser(user)
	if err != nil {
		return Identity{}, err
	}
	dir := c.profileDir(name)
	p, err := profile.Open(dir)
	var key *ecdsa.PrivateKey
	switch {
	case errors.Is(err, profile.ErrNoProfile):
		p = nil
		if key, err = ca.GenerateKey(); err != nil {
			return Identity{}, err
		}
	case err != nil:
		return Identity{}, err
	default:
		if p.Username != name {
			return Identity{}, fmt.Errorf("profile %s belongs to %q, not %q", dir, p.Username, name)
		}
		if key, err = p.Unlock(password); err != nil {
			return Identity{}, err
		}
	}
	n, npath, err := c.network(p)
	if err != nil {
		return Identity{}, err
	}
	lc := client.New(n)
	defer lc.Close()
	cert, err := lc.Login(ctx, name, password, &key.PublicKey)
	if err != nil {
		return Identity{}, err
	}
	if p == nil {
		// The account was made elsewhere: keep the key the server just
		// certified in a new profile.
		if p, err = profile.Create(dir, name, password, c.cfg.KDF, n, key); err != nil {
			return Identity{}, err
		}
	}
	if err := p.SaveCertificate(cert); err != nil {
		return Identity{}, err
	}
	if c.cfg.Network != "" {
		if err := p.SaveNetwork(n); err != nil {
			return Identity{}, err
		}
	}
	c.setCurrent(name)
	id := c.identity(p, cert, n, npath)
	contacts, bud, err := c.openBuddies(p, password, n.CAPool())
	if err != nil {
		return Identity{}, err
	}
	msg, err := c.openMessaging(p, key, name)
	if err != nil {
		return Identity{}, err
	}
	c.endSession() // a session before this one
	c.mu.Lock()
	c.session = &session{profile: p, key: key, cert: cert, ident: id, status: savedStatus(p), contacts: contacts, buddies: bud, msg: msg}
	c.mu.Unlock()
	c.log.Info("logged in", "user", name, "expires", cert.NotAfter)
	c.events.publish(LoggedIn{Identity: id})
	if bud.refused != nil {
		c.events.publish(BuddyListRefused{Err: bud.refused})
	}
	return id, nil
}

// endSession takes the client off the overlay and closes the session's
// history and transfers, before another session starts.
func (c *Client) endSession() {
	c.GoOffline()
	c.mu.Lock()
	s := c.session
	c.session = nil
	c.mu.Unlock()
	if s != nil && s.msg != nil {
		s.msg.close()
	}
}

// Logout ends the session; the profile stays on disk.
func (c *Client) Logout() {
	c.GoOffline()
	c.mu.Lock()
	s := c.session
	c.session = nil
	c.mu.Unlock()
	if s != nil {
		if s.msg != nil {
			s.msg.close()
		}
		c.events.publish(LoggedOut{Username: s.ident.Username})
	}
}

// Session returns the identity of the current session, if logged in.
func (c *Client) Session() (Identity, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session == nil {
		return Identity{}, false
	}
	return c.session.ident, true
}

// Whoami reports the session's identity, or, with no session, the identity
// in the current profile's saved certificate.
func (c *Client) Whoami() (Identity, error) {
	if id, ok := c.Session(); ok {
		return id, nil
	}
	name, err := c.resolveUser("")
	if err != nil {
		return Identity{}, err
	}
	p, err := profile.Open(c.profileDir(name))
	if err != nil {
		return Identity{}, err
	}
	cert, err := p.Certificate()
	if err != nil {
		return Identity{}, err
	}
	n, npath, err := c.network(p)
	if err != nil {
		return Identity{}, err
	}
	return c.identity(p, cert, n, npath), nil
}

// Network returns the network file the client uses and its path.
func (c *Client) Network() (*bootstrap.Network, string, error) {
	var p *profile.Profile
	if name, err := c.resolveUser(""); err == nil {
		p, _ = profile.Open(c.profileDir(name))
	}
	return c.network(p)
}

// LastUser returns the user of the current profile, or "" when there is
// none yet.
func (c *Client) LastUser() string {
	name, _ := c.resolveUser("")
	return name
}

func (c *Client) identity(p *profile.Profile, cert *x509.Certificate, n *bootstrap.Network, npath string) Identity {
	_, err := ca.VerifyUser(n.CAPool(), cert, c.cfg.Now(), p.Username)
	return Identity{
		Username:  cert.Subject.CommonName,
		Serial:    cert.SerialNumber.Text(16),
		NotBefore: cert.NotBefore,
		NotAfter:  cert.NotAfter,
		Valid:     err == nil,
		LoginURL:  n.LoginURL,
		Network:   npath,
		Profile:   p.Dir,
	}
}

// network finds the network file: --network, the profile's copy,
// $SOITTO_NETWORK, then the config folder's network.json.
func (c *Client) network(p *profile.Profile) (*bootstrap.Network, string, error) {
	var candidates []string
	if c.cfg.Network != "" {
		n, err := bootstrap.Load(c.cfg.Network)
		return n, c.cfg.Network, err
	}
	if p != nil {
		candidates = append(candidates, p.NetworkPath())
	}
	if env := os.Getenv("SOITTO_NETWORK"); env != "" {
		candidates = append(candidates, env)
	}
	if d, err := xdg.ConfigDir(); err == nil {
		candidates = append(candidates, filepath.Join(d, "network.json"))
	}
	for _, path := range candidates {
		n, err := bootstrap.Load(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		return n, path, err
	}
	hint := "the config folder"
	if len(candidates) > 0 {
		hint = candidates[len(candidates)-1]
	}
	return nil, "", fmt.Errorf("%w: give --network FILE (soitto-login init writes one), set SOITTO_NETWORK, or put one at %s",
		ErrNoNetwork, hint)
}

func (c *Client) profileDir(name string) string {
	if c.cfg.Profile != "" {
		return c.cfg.Profile
	}
	return filepath.Join(c.cfg.ProfilesDir, name)
}

// resolveUser normalizes user, or finds the current profile's user.
func (c *Client) resolveUser(user string) (string, error) {
	if user != "" {
		return username.Normalize(user)
	}
	if c.cfg.Profile != "" {
		p, err := profile.Open(c.cfg.Profile)
		if err != nil {
			return "", err
		}
		return p.Username, nil
	}
	b, err := os.ReadFile(filepath.Join(c.cfg.ProfilesDir, currentFile))
	if err != nil {
		return "", fmt.Errorf("%w in %s: register or log in with a username first", profile.ErrNoProfile, c.cfg.ProfilesDir)
	}
	return username.Normalize(strings.TrimSpace(string(b)))
}

func (c *Client) setCurrent(name string) {
	if c.cfg.Profile != "" {
		return
	}
	if err := atomicfile.WriteFile(filepath.Join(c.cfg.ProfilesDir, currentFile), []byte(name+"\n"), 0o600); err != nil {
		c.log.Warn("could not remember the current profile", "err", err)
	}
}

// Resume starts a session for user (or the current profile's) from the
// profile: the identity key unlocked with password and the certificate of
// the last login, if it is valid for another hour; otherwise it logs in
// anew. One-shot commands use it so as not to ask the login server each
// time.
func (c *Client) Resume(ctx context.Context, user, password string) (Identity, error) {
	name, err := c.resolveUser(user)
	if err != nil {
		return Identity{}, err
	}
	p, err := profile.Open(c.profileDir(name))
	if err != nil {
		return c.Login(ctx, user, password)
	}
	cert, cerr := p.Certificate()
	n, npath, nerr := c.network(p)
	if cerr != nil || nerr != nil || c.cfg.Now().Add(time.Hour).After(cert.NotAfter) {
		return c.Login(ctx, name, password)
	}
	if _, err := ca.VerifyUser(n.CAPool(), cert, c.cfg.Now(), name); err != nil {
		return c.Login(ctx, name, password)
	}
	key, err := p.Unlock(password)
	if err != nil {
		return Identity{}, err
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return c.Login(ctx, name, password)
	}
	contacts, bud, err := c.openBuddies(p, password, n.CAPool())
	if err != nil {
		return Identity{}, err
	}
	msg, err := c.openMessaging(p, key, name)
	if err != nil {
		return Identity{}, err
	}
	c.endSession() // a session before this one
	id := c.identity(p, cert, n, npath)
	c.mu.Lock()
	c.session = &session{profile: p, key: key, cert: cert, ident: id, status: savedStatus(p), contacts: contacts, buddies: bud, msg: msg}
	c.mu.Unlock()
	c.events.publish(LoggedIn{Identity: id})
	if bud.refused != nil {
		c.events.publish(BuddyListRefused{Err: bud.refused})
	}
	return id, nil
}

// savedStatus is the status the profile keeps, online if none.
func savedStatus(p *profile.Profile) presence.Status {
	if saved, err := p.Status(); err == nil {
		if st, err := presence.ParseStatus(saved); err == nil && st != presence.Offline {
			return st
		}
	}
	return presence.Online
}
