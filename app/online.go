package app

import (
	"context"
	"crypto/tls"
	"errors"
	"sync"
	"time"

	"soitto/bootstrap"
	"soitto/login/username"
	"soitto/overlay"
	"soitto/overlay/peer"
	"soitto/overlay/presence"
	"soitto/overlay/search"
	"soitto/overlay/wire"
)

// ErrOffline is returned by calls that need the client on the overlay.
var ErrOffline = errors.New("not connected to the network")

// OverlayConfig tunes the client's life on the overlay; zero fields take
// the defaults.
type OverlayConfig struct {
	// PollInterval is how often the contacts' presence is looked up
	// again, besides the pushes from contacts who were asked to tell.
	// If zero, 60 s.
	PollInterval time.Duration
	// TTL of the published presence record; if zero, presence.TTL.
	TTL time.Duration
	// KeepAlive towards the super-peer when it names none; if zero, 15 s.
	KeepAlive time.Duration
	// MailboxInterval is how often the ring is asked for mail left for
	// this user and for the collection of mail this user left; if zero,
	// 30 s. (Going online asks at once.)
	MailboxInterval time.Duration
}

// OnlineOptions say what a session on the overlay is for.
type OnlineOptions struct {
	// Interactive: publish presence, take signals, follow the contacts'
	// presence and answer other programs of the same user (the desktop
	// app, soitto-cli listen). Otherwise the client only searches and
	// sends (a one-shot command).
	Interactive bool
	// Receive: take signals addressed to the user without publishing
	// presence, for the answers to this program's own session offers
	// (soitto-cli ping). Offers from others are left to the interactive
	// programs of the user.
	Receive bool
}

// Contact is a user in the buddy list with what is known of their
// presence.
type Contact struct {
	Name  string
	Added time.Time
	// State: contact, requested, pending or blocked.
	State ContactState
	// Message is the request's message (pending: theirs; requested: ours).
	Message string
	// KeyChanged: the contact signs with another key than the one
	// pinned; see AcceptContactKey and SafetyNumber.
	KeyChanged bool
	// Status is Offline until the contact has been found online.
	Status presence.Status
	// SuperPeer is the super-peer the contact is attached to, if online.
	SuperPeer string
	// Checked is when the presence was last looked up; zero if never.
	Checked time.Time
}

// SearchResult is what a search found and what it took.
type SearchResult struct {
	User      string
	Found     bool // a presence record was found (it may say offline)
	Status    presence.Status
	SuperPeer string
	Expires   time.Time
	Rounds    int
	Asked     []string
	Cached    bool
	Proxied   bool
}

// online is a session's presence on the overlay.
type online struct {
	peer        *peer.Peer
	interactive bool
	receive     bool // takes signals (interactive or Receive)
	cancel      context.CancelFunc
	wg          sync.WaitGroup
	check       chan string // contacts to look up now
	ice         iceCache
	sessions    sessions
	links       links
	kick        chan struct{} // something to deliver; capacity 1
	cameOnline  chan string   // contacts seen coming online, for the courier
	calls       calls
	promo       promotion
	rehome      chan struct{} // attached to a (new) super-peer; capacity 1

	mu        sync.Mutex // guards watchers and watchSent
	watchers  map[string]time.Time
	watchSent map[string]time.Time
	requested map[string]bool // contact requests delivered this session
}

// GoOnline attaches the session to the overlay and keeps it there until
// GoOffline or Logout. It returns once the client is trying; WaitOnline
// waits until it is attached.
func (c *Client) GoOnline(opts OnlineOptions) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.session
	if s == nil {
		return ErrNotLoggedIn
	}
	if s.online != nil {
		return nil
	}
	n, _, err := c.network(s.profile)
	if err != nil {
		return err
	}
	hosts, err := bootstrap.LoadHostCache(s.profile.HostsPath(), nil)
	if err != nil {
		c.log.Warn("host cache unreadable; starting a new one", "err", err)
		hosts = bootstrap.NewHostCache(nil)
	}
	st := s.status
	o := &online{
		interactive: opts.Interactive,
		receive:     opts.Interactive || opts.Receive,
		check:       make(chan string, 64),
		rehome:      make(chan struct{}, 1),
		kick:        make(chan struct{}, 1),
		cameOnline:  make(chan string, 16),
		watchers:    map[string]time.Time{},
		watchSent:   map[string]time.Time{},
		requested:   map[string]bool{},
	}
	o.peer, err = peer.New(peer.Config{
		Network:     n,
		Certificate: tls.Certificate{Certificate: [][]byte{s.cert.Raw}, PrivateKey: s.key, Leaf: s.cert},
		Hosts:       hosts,
		Status:      publishedFor(st, s.buddies.privacy), // c.mu is held
		Publish:     opts.Interactive,
		Receive:     opts.Interactive || opts.Receive,
		OnSignal:    func(sig *wire.Signal) error { return c.onSignal(o, sig) },
		OnState: func(home overlay.Node) {
			if home.IsZero() {
				c.events.publish(Disconnected{})
			} else {
				c.events.publish(Connected{SuperPeer: home.Addr})
				select {
				case o.rehome <- struct{}{}:
				default:
				}
			}
		},
		TTL:       c.cfg.Overlay.TTL,
		KeepAlive: c.cfg.Overlay.KeepAlive,
		Logger:    c.cfg.Logger,
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	o.cancel = cancel
	s.online = o
	o.wg.Go(func() {
		o.peer.Run(ctx)
		if err := hosts.Save(s.profile.HostsPath()); err != nil {
			c.log.Warn("saving the host cache", "err", err)
		}
	})
	if o.receive {
		o.wg.Go(func() { c.courier(ctx, o) })
	}
	if opts.Interactive {
		o.wg.Go(func() { c.followContacts(ctx, o) })
		o.wg.Go(func() { c.watchNet(ctx, o) })
		since := time.Now()
		o.wg.Go(func() { c.watchPromotion(ctx, o, since) })
		ln, err := listenControl(s.profile.ControlPath())
		if err != nil {
			c.log.Warn("no control socket; soitto-cli status cannot reach this session", "err", err)
		} else {
			o.wg.Go(func() { c.serveControl(ctx, ln) })
		}
	}
	return nil
}

// GoOffline tells the contacts who asked, publishes "offline" and leaves
// the overlay.
func (c *Client) GoOffline() {
	c.mu.Lock()
	s := c.session
	var o *online
	if s != nil {
		o, s.online = s.online, nil
	}
	c.mu.Unlock()
	if o == nil {
		return
	}
	if o.interactive && o.peer.Home() != (overlay.Node{}) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c.tellWatchers(ctx, o, presence.Offline)
		cancel()
	}
	c.endCalls(o, "offline")
	o.sessions.closeAll()
	o.cancel()
	o.wg.Wait()
	c.events.publish(Disconnected{})
}

// current returns the session's online state.
func (c *Client) current() (*session, *online, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session == nil {
		return nil, nil, ErrNotLoggedIn
	}
	if c.session.online == nil {
		return c.session, nil, ErrOffline
	}
	return c.session, c.session.online, nil
}

// SuperPeer is the super-peer the client is attached to, if it is.
func (c *Client) SuperPeer() (string, bool) {
	_, o, err := c.current()
	if err != nil {
		return "", false
	}
	h := o.peer.Home()
	return h.Addr, !h.IsZero()
}

// WaitOnline waits until the client is attached to a super-peer.
func (c *Client) WaitOnline(ctx context.Context) (string, error) {
	_, o, err := c.current()
	if err != nil {
		return "", err
	}
	h, err := o.peer.WaitAttached(ctx)
	return h.Addr, err
}

// Search finds user's presence. An error wrapping search.ErrNoSuchUser
// is the network's authoritative "not online".
func (c *Client) Search(ctx context.Context, user string) (SearchResult, error) {
	name, err := username.Normalize(user)
	if err != nil {
		return SearchResult{}, err
	}
	_, o, err := c.current()
	if err != nil {
		return SearchResult{}, err
	}
	res, err := o.peer.Search(ctx, name)
	out := SearchResult{
		User: name, Found: res.Found, Rounds: res.Rounds, Asked: res.Asked,
		Cached: res.Cached, Proxied: res.Proxied,
	}
	if res.Found {
		out.Status = res.Info.Status
		out.SuperPeer = res.Info.SuperPeer.Addr
		out.Expires = res.Info.Expires
	}
	return out, err
}

// Send signs a signal to user and has it relayed to them.
func (c *Client) Send(ctx context.Context, user, kind string, payload []byte) error {
	name, err := username.Normalize(user)
	if err != nil {
		return err
	}
	_, o, err := c.current()
	if err != nil {
		return err
	}
	return o.peer.Send(ctx, name, kind, payload)
}

// Status is the status the user chose (saved in the profile).
func (c *Client) Status() presence.Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session == nil {
		return presence.Offline
	}
	return c.session.status
}

// SetStatus changes the user's status: saved in the profile, published
// at once when online, and pushed to the contacts who asked to be told.
func (c *Client) SetStatus(st presence.Status) error {
	if st == presence.Offline {
		return errors.New("status offline: log out or go offline instead")
	}
	c.mu.Lock()
	s := c.session
	if s == nil {
		c.mu.Unlock()
		return ErrNotLoggedIn
	}
	s.status = st
	o := s.online
	c.mu.Unlock()
	if err := s.profile.SaveStatus(st.String()); err != nil {
		return err
	}
	c.events.publish(StatusChanged{Status: st})
	if o != nil {
		o.peer.SetStatus(c.published(st))
		if o.interactive {
			o.wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				c.tellWatchers(ctx, o, st.Published())
			})
		}
	}
	return nil
}

// searchStatus maps a search to the status shown for a contact, and the
// super-peer to reach them through; hidden is a record that keeps the
// status for contacts (offline, with a super-peer).
func searchStatus(res search.Result, err error) (st presence.Status, sp string, hidden bool, _ error) {
	switch {
	case errors.Is(err, wire.ErrNotFound):
		return presence.Offline, "", false, nil
	case err != nil:
		return 0, "", false, err
	case res.Found && res.Info.Hidden():
		return presence.Offline, res.Info.SuperPeer.Addr, true, nil
	case !res.Found || !res.Info.Online():
		return presence.Offline, "", false, nil
	}
	return res.Info.Status, res.Info.SuperPeer.Addr, false, nil
}
