package media

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/transport/v5"
	"github.com/pion/webrtc/v4"
)

// DefaultRelayWait is how long ICE waits before it accepts a pair through
// a TURN relay while direct pairs are still being checked. pion's default
// is 2 s, which every relayed session pays in full. Direct checks between
// two NATs that allow them finish within a few round trips (under 300 ms
// on a continent; see the offer-to-open benchmark), so 500 ms keeps
// direct paths preferred and makes relayed sessions open 1.5 s sooner.
const DefaultRelayWait = 500 * time.Millisecond

// ControlLabel is the label of the session's control data channel.
const ControlLabel = "control"

// Config configures one side of a session.
type Config struct {
	// Certificate is the user's own CA-issued certificate and ECDSA key;
	// it is the session's DTLS certificate.
	Certificate tls.Certificate
	// Roots holds the network's CA.
	Roots *x509.CertPool
	// Remote is the user this session must reach: the remote DTLS
	// certificate must name them.
	Remote string
	// ICEServers are STUN and TURN servers.
	ICEServers []webrtc.ICEServer
	// RelayOnly uses relay candidates only (hides the user's addresses
	// from the other side).
	RelayOnly bool
	// Send carries a message to the other side. The session calls it
	// from one goroutine, in order; an error on the offer or answer
	// ends the session.
	Send func(ctx context.Context, m Message) error
	// Net is the network; nil is the real one (a pion vnet in tests).
	Net transport.Net
	// RelayWait: see DefaultRelayWait; zero means that.
	RelayWait time.Duration
	// IPFilter, if set, keeps only the local IPs it accepts for host
	// candidates (tests keep to loopback with it).
	IPFilter func(net.IP) bool
	// Logger; nil discards.
	Logger *slog.Logger
}

// Session is a WebRTC PeerConnection between two users, opened through
// signalling someone else carries, with a control data channel. Each
// side's DTLS certificate is its user certificate, and each checks that
// the other's is the network CA's and names the user it meant to reach,
// so whoever carries the signalling cannot sit in the middle.
type Session struct {
	cfg      Config
	log      *slog.Logger
	id       string
	offerer  bool
	pc       *webrtc.PeerConnection
	outbox   chan Message
	verified chan struct{} // closed when the remote certificate passed
	opened   chan struct{} // closed when the control channel is open
	done     chan struct{}
	pcClosed chan struct{} // closed when pc.Close has returned
	ctx      context.Context
	cancel   context.CancelFunc
	started  time.Time

	mu        sync.Mutex // guards the fields below
	err       error
	control   *webrtc.DataChannel
	pending   []webrtc.ICECandidateInit // before the remote description
	remoteSet bool
	pings     map[uint64]chan time.Time
	openOnce  sync.Once
	verOnce   sync.Once
	doneOnce  sync.Once
}

// Offer starts a session as the caller: it sends an offer through
// cfg.Send and returns at once. Feed the other side's messages to
// Handle; Open waits until the session is open.
func Offer(cfg Config) (*Session, error) {
	var idb [16]byte
	rand.Read(idb[:])
	s, err := newSession(cfg, hex.EncodeToString(idb[:]), true)
	if err != nil {
		return nil, err
	}
	dc, err := s.pc.CreateDataChannel(ControlLabel, nil)
	if err != nil {
		s.fail(err)
		return nil, err
	}
	s.useControl(dc)
	offer, err := s.pc.CreateOffer(nil)
	if err != nil {
		s.fail(err)
		return nil, err
	}
	// Queued before SetLocalDescription starts gathering, so the offer
	// goes out before any candidate.
	s.outbox <- Message{Session: s.id, Kind: KindOffer, SDP: offer.SDP}
	if err := s.pc.SetLocalDescription(offer); err != nil {
		s.fail(err)
		return nil, err
	}
	return s, nil
}

// Answer starts a session as the callee, for offer: it sends the answer
// and returns at once.
func Answer(cfg Config, offer Message) (*Session, error) {
	if offer.Kind != KindOffer {
		return nil, fmt.Errorf("media: answering a %q message", offer.Kind)
	}
	s, err := newSession(cfg, offer.Session, false)
	if err != nil {
		return nil, err
	}
	s.pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		if dc.Label() == ControlLabel {
			s.useControl(dc)
		}
	})
	if err := s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer.SDP}); err != nil {
		s.fail(fmt.Errorf("media: the offer: %w", err))
		return nil, s.Err()
	}
	s.mu.Lock()
	s.remoteSet = true
	s.mu.Unlock()
	answer, err := s.pc.CreateAnswer(nil)
	if err != nil {
		s.fail(err)
		return nil, err
	}
	s.outbox <- Message{Session: s.id, Kind: KindAnswer, SDP: answer.SDP}
	if err := s.pc.SetLocalDescription(answer); err != nil {
		s.fail(err)
		return nil, err
	}
	return s, nil
}

func newSession(cfg Config, id string, offerer bool) (*Session, error) {
	if len(cfg.Certificate.Certificate) == 0 {
		return nil, errors.New("media: no certificate")
	}
	if cfg.Remote == "" || cfg.Roots == nil || cfg.Send == nil {
		return nil, errors.New("media: Config needs Remote, Roots and Send")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.RelayWait == 0 {
		cfg.RelayWait = DefaultRelayWait
	}
	leaf := cfg.Certificate.Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(cfg.Certificate.Certificate[0]); err != nil {
			return nil, fmt.Errorf("media: certificate: %w", err)
		}
	}
	cert := webrtc.CertificateFromX509(cfg.Certificate.PrivateKey, leaf)

	var se webrtc.SettingEngine
	if cfg.Net != nil {
		se.SetNet(cfg.Net)
	}
	se.SetRelayAcceptanceMinWait(cfg.RelayWait)
	// No multicast DNS: host candidates carry real addresses, and no
	// query leaves for 224.0.0.251.
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	if cfg.IPFilter != nil {
		se.SetIPFilter(cfg.IPFilter)
		se.SetIncludeLoopbackCandidate(true)
	}
	se.SetDTLSCipherSuites(dtls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)
	se.SetSRTPProtectionProfiles(dtls.SRTP_AEAD_AES_256_GCM)
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se))
	pcCfg := webrtc.Configuration{
		ICEServers:   cfg.ICEServers,
		Certificates: []webrtc.Certificate{cert},
	}
	if cfg.RelayOnly {
		pcCfg.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	}
	pc, err := api.NewPeerConnection(pcCfg)
	if err != nil {
		return nil, fmt.Errorf("media: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Session{
		cfg: cfg, id: id, offerer: offerer, pc: pc,
		log:      cfg.Logger.With("component", "session", "session", id[:8], "remote", cfg.Remote),
		outbox:   make(chan Message, 256),
		verified: make(chan struct{}),
		opened:   make(chan struct{}),
		done:     make(chan struct{}),
		pcClosed: make(chan struct{}),
		ctx:      ctx, cancel: cancel,
		started: time.Now(),
		pings:   map[uint64]chan time.Time{},
	}
	go s.sendLoop()
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			s.queue(Message{Session: s.id, Kind: KindCandidates})
			return
		}
		init := c.ToJSON()
		s.queue(Message{Session: s.id, Kind: KindCandidate, Candidate: &init})
	})
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		s.log.Debug("connection state", "state", st.String())
		switch st {
		case webrtc.PeerConnectionStateConnected:
			s.verify()
		case webrtc.PeerConnectionStateFailed:
			s.fail(errors.New("media: no path to the peer (ICE failed)"))
		case webrtc.PeerConnectionStateClosed:
			s.fail(errors.New("media: session closed"))
		}
	})
	return s, nil
}

// queue hands m to the send loop unless the session has ended.
func (s *Session) queue(m Message) {
	select {
	case s.outbox <- m:
	case <-s.done:
	}
}

func (s *Session) sendLoop() {
	for {
		select {
		case m := <-s.outbox:
			ctx, cancel := context.WithTimeout(s.ctx, 15*time.Second)
			err := s.cfg.Send(ctx, m)
			cancel()
			if err != nil {
				if m.Kind == KindOffer || m.Kind == KindAnswer {
					s.fail(fmt.Errorf("media: sending the %s: %w", m.Kind, err))
					return
				}
				s.log.Info("signalling message not sent", "kind", m.Kind, "err", err)
			}
		case <-s.done:
			return
		}
	}
}

// verify checks the remote DTLS certificate: issued by the network's CA,
// valid, naming cfg.Remote.
func (s *Session) verify() {
	der := s.pc.SCTP().Transport().GetRemoteCertificate()
	if err := VerifyRemote(der, s.cfg.Roots, s.cfg.Remote, time.Now()); err != nil {
		s.log.Warn("remote identity refused", "err", err)
		s.fail(err)
		return
	}
	s.verOnce.Do(func() { close(s.verified) })
}

func (s *Session) useControl(dc *webrtc.DataChannel) {
	s.mu.Lock()
	s.control = dc
	s.mu.Unlock()
	dc.OnOpen(func() { s.openOnce.Do(func() { close(s.opened) }) })
	dc.OnMessage(func(msg webrtc.DataChannelMessage) {
		select {
		case <-s.verified:
		default:
			return // nothing is taken before the identity is checked
		}
		b := msg.Data
		if len(b) != 9 || msg.IsString {
			return
		}
		switch b[0] {
		case 'p':
			r := append([]byte{'P'}, b[1:]...)
			dc.Send(r)
		case 'P':
			id := binary.BigEndian.Uint64(b[1:])
			s.mu.Lock()
			ch := s.pings[id]
			delete(s.pings, id)
			s.mu.Unlock()
			if ch != nil {
				ch <- time.Now()
			}
		}
	})
	dc.OnClose(func() { s.fail(errors.New("media: the other side closed the session")) })
}

// ID is the session's ID.
func (s *Session) ID() string { return s.id }

// Remote is the user on the other side.
func (s *Session) Remote() string { return s.cfg.Remote }

// Handle takes a message from the other side.
func (s *Session) Handle(m Message) error {
	if m.Session != s.id {
		return fmt.Errorf("media: message for session %s given to %s", m.Session, s.id)
	}
	switch m.Kind {
	case KindAnswer:
		if !s.offerer {
			return errors.New("media: an answer to the answerer")
		}
		s.mu.Lock()
		already := s.remoteSet
		s.remoteSet = true
		pending := s.pending
		s.pending = nil
		s.mu.Unlock()
		if already {
			return nil // a duplicate
		}
		if err := s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.SDP}); err != nil {
			err = fmt.Errorf("media: the answer: %w", err)
			s.fail(err)
			return err
		}
		for _, c := range pending {
			s.addCandidate(c)
		}
	case KindCandidate:
		s.mu.Lock()
		if !s.remoteSet {
			if len(s.pending) < 64 {
				s.pending = append(s.pending, *m.Candidate)
			}
			s.mu.Unlock()
			return nil
		}
		s.mu.Unlock()
		s.addCandidate(*m.Candidate)
	case KindCandidates:
	case KindClose:
		reason := m.Reason
		if reason == "" {
			reason = "closed"
		}
		s.fail(fmt.Errorf("media: the other side ended the session: %s", reason))
	default:
		return fmt.Errorf("media: unexpected %s", m.Kind)
	}
	return nil
}

func (s *Session) addCandidate(c webrtc.ICECandidateInit) {
	if err := s.pc.AddICECandidate(c); err != nil {
		s.log.Debug("remote candidate refused", "err", err)
	}
}

// Open waits until the session is open: connected, the remote identity
// verified and the control channel open. It returns the error that ended
// the session, if it ended first.
func (s *Session) Open(ctx context.Context) error {
	for _, ch := range []chan struct{}{s.verified, s.opened} {
		select {
		case <-ch:
		case <-s.done:
			return s.Err()
		case <-ctx.Done():
			return fmt.Errorf("media: session with %s not open: %w", s.cfg.Remote, ctx.Err())
		}
	}
	return nil
}

// Verified is closed once the remote certificate has been checked. Data
// channels a later feature opens must not act on messages before it.
func (s *Session) Verified() <-chan struct{} { return s.verified }

// Ping measures a round trip over the control channel.
func (s *Session) Ping(ctx context.Context) (time.Duration, error) {
	if err := s.Open(ctx); err != nil {
		return 0, err
	}
	var idb [8]byte
	rand.Read(idb[:])
	id := binary.BigEndian.Uint64(idb[:])
	ch := make(chan time.Time, 1)
	s.mu.Lock()
	s.pings[id] = ch
	dc := s.control
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pings, id)
		s.mu.Unlock()
	}()
	start := time.Now()
	if err := dc.Send(append([]byte{'p'}, idb[:]...)); err != nil {
		return 0, fmt.Errorf("media: ping: %w", err)
	}
	select {
	case t := <-ch:
		return t.Sub(start), nil
	case <-s.done:
		return 0, s.Err()
	case <-ctx.Done():
		return 0, fmt.Errorf("media: ping: %w", ctx.Err())
	}
}

// PeerConnection is the session's connection, for audio and data
// channels. Callers must not replace the handlers the session set
// (OnICECandidate, OnConnectionStateChange, OnDataChannel).
func (s *Session) PeerConnection() *webrtc.PeerConnection { return s.pc }

// Done is closed when the session ends.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err is why the session ended, or nil while it runs.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close ends the session, telling the other side (best effort).
func (s *Session) Close() error {
	select {
	case <-s.done:
		return s.wait()
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	s.cfg.Send(ctx, Message{Session: s.id, Kind: KindClose, Reason: "hung up"})
	cancel()
	s.fail(errors.New("media: session closed"))
	return s.wait()
}

// wait waits (a bounded time) until the connection has closed.
func (s *Session) wait() error {
	select {
	case <-s.pcClosed:
		return nil
	case <-time.After(5 * time.Second):
		return errors.New("media: the connection did not close within 5 s")
	}
}

// fail ends the session with err (the first error wins).
func (s *Session) fail(err error) {
	s.doneOnce.Do(func() {
		s.mu.Lock()
		s.err = err
		s.mu.Unlock()
		close(s.done)
		s.cancel()
		// Not on this goroutine: fail runs in pion's callbacks too.
		go func() {
			s.pc.Close()
			close(s.pcClosed)
		}()
	})
}
