package media

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/transport/v5"
	"github.com/pion/webrtc/v4"
)

// DefaultRelayWait is how long ICE waits, from the start of its checks,
// before it may select a pair through a TURN relay. A relay pair is only
// chosen when no direct pair has succeeded by then (a succeeded direct
// pair ranks higher), and pion does not move a session off a relay once
// chosen, so a wait too short puts sessions that could go direct on a
// super-peer's relay for their whole life; a wait too long delays every
// relayed session's setup by up to the wait. pion's default is 2 s.
//
// BenchmarkOfferToOpen (pion vnet, offer to open, 5-20 runs a case):
// with round trips of 100 ms between the hosts, a relayed pair
// (symmetric ↔ symmetric) opens in 1.35 s with no wait, 1.44 s with
// 500 ms, 1.92 s with 1 s and 2.92 s with 2 s; a pair that can go direct
// (port-restricted ↔ port-restricted) opens in 1.6-1.8 s whatever the
// wait, and always directly, as does restricted ↔ symmetric, whose
// direct path needs a peer-reflexive check (1.66 s, none relayed in 10
// even with no wait). With 10% packet loss, checks get lost and
// the relay sometimes wins the race: 2 of 20 direct-capable sessions
// were relayed with no wait, 1 of 20 with 500 ms, none with 1 s or 2 s.
// At 300 ms round trips the relay cannot succeed within 1 s anyway.
// 1 s kept every direct-capable session direct and costs relayed ones
// 0.5 s against 500 ms, and saves them 1 s against pion's default.
const DefaultRelayWait = time.Second

// ControlLabel is the label of the session's control data channel.
const ControlLabel = "control"

// ErrClosed is the error of a session this side closed.
var ErrClosed = errors.New("media: session closed")

// Bounds.
const (
	sendTimeout  = 15 * time.Second // one signalling message
	closeTimeout = 2 * time.Second  // the close message, best effort
	closeWait    = 10 * time.Second // Close, for the connection to stop
	maxPending   = 64               // remote candidates before the remote description

	audioDisconnected = 5 * time.Second  // ICE, for sessions with audio
	audioFailed       = 10 * time.Second // after disconnected
	audioKeepalive    = 2 * time.Second
)

// errNotYet: the DTLS handshake has not completed, so there is no remote
// certificate to verify yet.
var errNotYet = errors.New("media: not connected yet")

// Config configures one side of a session.
type Config struct {
	// Certificate is the user's own CA-issued certificate (Leaf, or
	// Certificate[0] in DER) and its ECDSA P-256 key; it is the session's
	// DTLS certificate. It must be valid now.
	Certificate tls.Certificate
	// Roots holds the network's CA.
	Roots *x509.CertPool
	// Remote is the user this session must reach: the other side's DTLS
	// certificate must name them.
	Remote string
	// ICEServers are STUN and TURN servers.
	ICEServers []webrtc.ICEServer
	// RelayOnly uses relay candidates only, which hides this side's
	// addresses from the other (ICETransportPolicyRelay).
	RelayOnly bool
	// Send carries a message to the other side. The session calls it
	// from one goroutine, in order, with a context that ends when the
	// session does (the close message has a short context of its own).
	// An error on the offer or answer ends the session; on a candidate
	// it is logged.
	Send func(ctx context.Context, m Message) error
	// Started, if set, is called with the new session before it sends
	// anything, so that the caller can route the other side's messages
	// to its Handle while Dial or Accept wait. It must not block.
	Started func(*Session)
	// Net is the network; nil is the real one (a pion vnet in tests).
	Net transport.Net
	// RelayWait: see DefaultRelayWait, which zero means; a negative
	// value means no wait. With RelayOnly and zero, no wait: every pair
	// is relayed.
	RelayWait time.Duration
	// IPFilter, if set, keeps only the local IPs it accepts for
	// candidates, loopback included (labs and tests keep to loopback
	// with it).
	IPFilter func(net.IP) bool
	// Logger; nil discards.
	Logger *slog.Logger
	// Audio adds an Opus audio track to the session (a call): the
	// offerer offers it, and the answerer sends one back when the
	// offer has one. StartVoice then carries sound over it.
	Audio bool
	// Interceptors are added to pion's RTP pipeline after its RTCP
	// reports: tests and benchmarks impair links with them (loss).
	Interceptors []interceptor.Factory
	// OnChannel, if set, takes every data channel the other side opens
	// (OpenChannel) but the control channel, once the other side's
	// certificate has been verified; it must not block. If nil, such
	// channels are closed.
	OnChannel func(*webrtc.DataChannel)
}

// Session is a WebRTC PeerConnection between two users, set up through
// signalling someone else carries, with a control data channel. See the
// package documentation for the flow and for what is verified when.
type Session struct {
	cfg     Config
	log     *slog.Logger
	id      string
	pc      *webrtc.PeerConnection
	offerer bool
	started time.Time

	outbox    chan Message  // to the send loop
	described chan struct{} // closed once the offer or answer is queued
	sendDone  chan struct{} // closed when the send loop has returned
	verified  chan struct{} // closed when the remote certificate passed
	opened    chan struct{} // closed when the control channel is open
	done      chan struct{} // closed when the session ends
	pcClosed  chan struct{} // closed when pc.Close has returned
	ctx       context.Context
	cancel    context.CancelFunc // ends ctx, with the session

	openOnce, doneOnce sync.Once

	vmu     sync.Mutex // guards verDone, verErr; held while verifying
	verDone bool
	verErr  error

	mu        sync.Mutex // guards err, control, pending, remoteSet, pings
	err       error
	control   *webrtc.DataChannel
	pending   []webrtc.ICECandidateInit // remote ones, before the remote description
	remoteSet bool
	pings     map[uint64]chan time.Time

	audioOut *webrtc.TrackLocalStaticSample // nil without Config.Audio
	sender   *webrtc.RTPSender
	audioIn  chan *webrtc.TrackRemote // the other side's audio, once
}

// Dial opens a session to cfg.Remote as the caller: it sends an offer
// through cfg.Send, trickles candidates, and returns once the control
// channel is open and the other side's certificate is verified. The
// other side's messages must reach the session's Handle meanwhile (see
// Config.Started). ctx bounds the setup only. On failure the session is
// closed (the other side is told) and the error says why.
func Dial(ctx context.Context, cfg Config) (*Session, error) {
	s, err := Offer(cfg)
	if err != nil {
		return nil, err
	}
	return s.await(ctx)
}

// Accept answers offer, from cfg.Remote, and returns as Dial does.
func Accept(ctx context.Context, cfg Config, offer Message) (*Session, error) {
	s, err := Answer(cfg, offer)
	if err != nil {
		return nil, err
	}
	return s.await(ctx)
}

func (s *Session) await(ctx context.Context) (*Session, error) {
	if err := s.Open(ctx); err != nil {
		s.fail(err, true)
		s.Close()
		return nil, err
	}
	return s, nil
}

// Offer starts a session as the caller, as Dial does, but returns at
// once; Open waits until it is open.
func Offer(cfg Config) (*Session, error) {
	s, err := newSession(cfg, newID(), true)
	if err != nil {
		return nil, err
	}
	dc, err := s.pc.CreateDataChannel(ControlLabel, nil)
	if err != nil {
		return nil, s.abort(fmt.Errorf("media: control channel: %w", err), false)
	}
	s.useControl(dc)
	if cfg.Audio {
		if err := s.addAudio(); err != nil {
			return nil, s.abort(err, false)
		}
	}
	offer, err := s.pc.CreateOffer(nil)
	if err != nil {
		return nil, s.abort(fmt.Errorf("media: offer: %w", err), false)
	}
	if err := s.pc.SetLocalDescription(offer); err != nil {
		return nil, s.abort(fmt.Errorf("media: offer: %w", err), false)
	}
	// Only now: the answer must not arrive before the offer is the
	// local description. Candidates wait for it (see described).
	s.outbox <- Message{Session: s.id, Kind: KindOffer, SDP: offer.SDP}
	close(s.described)
	return s, nil
}

// Answer starts a session as the callee, for offer, as Accept does, but
// returns at once; Open waits until it is open.
func Answer(cfg Config, offer Message) (*Session, error) {
	if err := offer.check(); err != nil {
		return nil, err
	}
	if offer.Kind != KindOffer {
		return nil, fmt.Errorf("media: answering a %s message", offer.Kind)
	}
	s, err := newSession(cfg, offer.Session, false)
	if err != nil {
		return nil, err
	}
	err = s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer.SDP})
	if err != nil {
		return nil, s.abort(fmt.Errorf("media: the offer: %s", oneLine(err.Error())), true)
	}
	// Candidates the caller trickled may have reached the session
	// (Handle) since Started named it, before the offer was set.
	s.mu.Lock()
	s.remoteSet = true
	pending := s.pending
	s.pending = nil
	s.mu.Unlock()
	for _, c := range pending {
		s.addCandidate(c)
	}
	if cfg.Audio && offersAudio(offer.SDP) {
		if err := s.addAudio(); err != nil {
			return nil, s.abort(err, true)
		}
	}
	answer, err := s.pc.CreateAnswer(nil)
	if err != nil {
		return nil, s.abort(fmt.Errorf("media: answer: %w", err), true)
	}
	if err := s.pc.SetLocalDescription(answer); err != nil {
		return nil, s.abort(fmt.Errorf("media: answer: %w", err), true)
	}
	s.outbox <- Message{Session: s.id, Kind: KindAnswer, SDP: answer.SDP}
	close(s.described)
	return s, nil
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func newSession(cfg Config, id string, offerer bool) (*Session, error) {
	if cfg.Remote == "" || cfg.Roots == nil || cfg.Send == nil {
		return nil, errors.New("media: Config needs Remote, Roots and Send")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	log := cfg.Logger.With("component", "media", "session", id[:8], "remote", cfg.Remote)
	leaf, key, err := dtlsCertificate(cfg.Certificate, cfg.Roots, time.Now())
	if err != nil {
		return nil, err
	}
	me, ir, err := mediaEngine(cfg)
	if err != nil {
		return nil, err
	}
	api := webrtc.NewAPI(webrtc.WithSettingEngine(settingEngine(cfg, log)),
		webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir))
	pcCfg := webrtc.Configuration{
		ICEServers:   cfg.ICEServers,
		Certificates: []webrtc.Certificate{webrtc.CertificateFromX509(key, leaf)},
	}
	if cfg.RelayOnly {
		pcCfg.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	}
	pc, err := api.NewPeerConnection(pcCfg)
	if err != nil {
		return nil, fmt.Errorf("media: %s", oneLine(err.Error()))
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Session{
		cfg: cfg, log: log, id: id, pc: pc, offerer: offerer, started: time.Now(),
		outbox:    make(chan Message, 256),
		described: make(chan struct{}),
		sendDone:  make(chan struct{}),
		verified:  make(chan struct{}),
		opened:    make(chan struct{}),
		done:      make(chan struct{}),
		pcClosed:  make(chan struct{}),
		ctx:       ctx, cancel: cancel,
		pings:   map[uint64]chan time.Time{},
		audioIn: make(chan *webrtc.TrackRemote, 1),
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if tr.Kind() != webrtc.RTPCodecTypeAudio {
			return
		}
		select {
		case s.audioIn <- tr:
		default: // only the first audio track counts
		}
	})
	pc.OnDataChannel(s.onDataChannel)
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
			s.Verify()
		case webrtc.PeerConnectionStateFailed:
			s.fail(s.failure(), true)
		case webrtc.PeerConnectionStateClosed:
			s.remoteEnded(fmt.Errorf("media: %s closed the session", s.cfg.Remote))
		}
	})
	if cfg.Started != nil {
		cfg.Started(s)
	}
	go s.sendLoop()
	return s, nil
}

// failure is why the connection failed.
func (s *Session) failure() error {
	if s.pc.SCTP().Transport().State() == webrtc.DTLSTransportStateFailed {
		return fmt.Errorf("media: DTLS handshake with %s failed", s.cfg.Remote)
	}
	select {
	case <-s.opened:
		return fmt.Errorf("media: lost the connection to %s (ICE failed)", s.cfg.Remote)
	default:
		return fmt.Errorf("media: no path to %s (ICE failed)", s.cfg.Remote)
	}
}

// queue hands a candidate message m to the send loop, after the offer
// or answer, unless the session has ended. pion gathers candidates once
// the local description is set, on its own goroutines, so the handler
// may run before Offer or Answer has queued the description.
func (s *Session) queue(m Message) {
	select {
	case <-s.described:
	case <-s.done:
		return
	}
	select {
	case s.outbox <- m:
	case <-s.done:
	}
}

// sendLoop sends the outbox in order. Once the session has ended it only
// sends the close message, if one is queued.
func (s *Session) sendLoop() {
	defer close(s.sendDone)
	for {
		select {
		case m := <-s.outbox:
			if m.Kind == KindClose {
				s.sendClose(m)
				return
			}
			if s.ended() {
				continue
			}
			ctx, cancel := context.WithTimeout(s.ctx, sendTimeout)
			err := s.cfg.Send(ctx, m)
			cancel()
			switch {
			case err == nil:
			case m.Kind == KindOffer || m.Kind == KindAnswer:
				s.fail(fmt.Errorf("media: sending the %s: %w", m.Kind, err), false)
			default:
				s.log.Info("signalling message not sent", "kind", m.Kind, "err", err)
			}
		case <-s.done:
			// fail queues the close message before it closes done.
			for {
				select {
				case m := <-s.outbox:
					if m.Kind == KindClose {
						s.sendClose(m)
						return
					}
				default:
					return
				}
			}
		}
	}
}

func (s *Session) sendClose(m Message) {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	if err := s.cfg.Send(ctx, m); err != nil {
		s.log.Debug("close message not sent", "err", err)
	}
}

func (s *Session) ended() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Verify checks the other side's DTLS certificate: issued by the
// network's CA, valid now, naming Config.Remote. The check runs once the
// DTLS handshake is complete; later calls return its result at no cost.
// A refused certificate ends the session with that error. Handlers of
// data channels other than the control channel must call Verify, and
// drop the message unless it returns nil, before acting on anything.
func (s *Session) Verify() error {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	if s.verDone {
		return s.verErr
	}
	// Closed after the handshake (the other side ended the session)
	// still has the certificate it completed with; Failed may have one
	// the handshake refused.
	dt := s.pc.SCTP().Transport()
	der := dt.GetRemoteCertificate()
	switch st := dt.State(); {
	case st == webrtc.DTLSTransportStateConnected:
	case st == webrtc.DTLSTransportStateClosed && len(der) > 0:
	default:
		return errNotYet
	}
	err := VerifyRemote(der, s.cfg.Roots, s.cfg.Remote, time.Now())
	s.verDone, s.verErr = true, err
	if err != nil {
		s.log.Warn("remote identity refused", "err", err)
		s.fail(err, true)
		return err
	}
	close(s.verified)
	return nil
}

// Verified is closed once the other side's certificate has passed
// Verify.
func (s *Session) Verified() <-chan struct{} { return s.verified }

// ID is the session's ID, the offerer's random choice.
func (s *Session) ID() string { return s.id }

// Remote is the user on the other side. Once Open has returned nil,
// their certificate has been verified to name them.
func (s *Session) Remote() string { return s.cfg.Remote }

// Handle takes a message from the other side for this session: the
// answer, candidates (kept until the remote description is set),
// end-of-candidates, or close. Messages for a session that has ended are
// ignored.
func (s *Session) Handle(m Message) error {
	if err := m.check(); err != nil {
		return err
	}
	if m.Session != s.id {
		return fmt.Errorf("media: message for session %s given to session %s", m.Session, s.id)
	}
	if s.ended() {
		return nil
	}
	switch m.Kind {
	case KindOffer:
		return fmt.Errorf("media: an offer for session %s, which exists", s.id)
	case KindAnswer:
		if !s.offerer {
			return errors.New("media: an answer given to the answerer")
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
		err := s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.SDP})
		if err != nil {
			err = fmt.Errorf("media: the answer: %s", oneLine(err.Error()))
			s.fail(err, true)
			return err
		}
		for _, c := range pending {
			s.addCandidate(c)
		}
	case KindCandidate:
		s.mu.Lock()
		if !s.remoteSet {
			if len(s.pending) < maxPending {
				s.pending = append(s.pending, *m.Candidate)
			}
			s.mu.Unlock()
			return nil
		}
		s.mu.Unlock()
		s.addCandidate(*m.Candidate)
	case KindCandidates:
		// ICE fails by its own timeout when no pair works; nothing to do.
	case KindClose:
		reason := m.Reason
		if reason == "" {
			reason = "closed"
		}
		s.remoteEnded(fmt.Errorf("media: %s ended the session: %s", s.cfg.Remote, reason))
	}
	return nil
}

// remoteEnded ends the session because the other side did, with err,
// unless this side's own check of the other's certificate, if the
// handshake got that far, fails: that verdict is the session's error
// then (the other side's reason may be its complaint about ours).
func (s *Session) remoteEnded(err error) {
	if v := s.Verify(); v != nil && !errors.Is(v, errNotYet) {
		return // Verify ended the session with v
	}
	s.fail(err, false)
}

func (s *Session) addCandidate(c webrtc.ICECandidateInit) {
	if err := s.pc.AddICECandidate(c); err != nil {
		s.log.Debug("remote candidate refused", "err", err)
	}
}

// Open waits until the session is open: the control channel open and the
// other side's certificate verified. It returns the error that ended the
// session if it ended first, and says how far setup got if ctx ends
// first (the session goes on; Dial and Accept close it).
func (s *Session) Open(ctx context.Context) error {
	select {
	case <-s.opened:
	case <-s.done:
		return s.Err()
	case <-ctx.Done():
		return fmt.Errorf("media: session with %s not open after %v (ICE %s): %w",
			s.cfg.Remote, time.Since(s.started).Round(time.Millisecond), s.pc.ICEConnectionState(), ctx.Err())
	}
	// The control channel runs over DTLS, so the handshake is complete.
	if err := s.Verify(); err != nil {
		return err
	}
	if s.ended() {
		return s.Err()
	}
	return nil
}

// PeerConnection is the session's connection, for statistics. Callers
// must not replace the handlers the session set (OnICECandidate,
// OnConnectionStateChange, OnDataChannel, OnTrack and the control
// channel's); data channels come and go through OpenChannel and
// Config.OnChannel, which only work once the other side is verified.
func (s *Session) PeerConnection() *webrtc.PeerConnection { return s.pc }

// Done is closed when the session ends: closed by either side, ICE or
// DTLS failed, or the other side's identity refused.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err is why the session ended (ErrClosed if this side closed it), or
// nil while it runs.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close ends the session: it tells the other side (best effort, within
// 2 s) and closes the connection, and returns once that is done (at
// most 10 s). It is idempotent. Closing the connection waits for the
// data channels' handlers, so a handler must not call Close itself
// (start it on a goroutine of its own).
func (s *Session) Close() error {
	s.fail(ErrClosed, true)
	t := time.NewTimer(closeWait)
	defer t.Stop()
	select {
	case <-s.pcClosed:
		return nil
	case <-t.C:
		return fmt.Errorf("media: the connection did not close within %v", closeWait)
	}
}

// abort ends a session that failed while starting and returns err.
func (s *Session) abort(err error, notify bool) error {
	s.fail(err, notify)
	s.Close()
	return err
}

// fail ends the session with err; the first error wins. With notify, the
// other side is sent a close message saying why.
func (s *Session) fail(err error, notify bool) {
	s.doneOnce.Do(func() {
		s.mu.Lock()
		s.err = err
		s.mu.Unlock()
		s.log.Info("session ended", "err", err)
		if notify {
			select {
			case s.outbox <- Message{Session: s.id, Kind: KindClose, Reason: closeReason(err)}:
			default: // a full outbox: the other side learns from DTLS or ICE
			}
		}
		close(s.done)
		s.cancel()
		// Not on this goroutine: fail runs in pion's callbacks too.
		go s.shutdown()
	})
}

// shutdown closes the connection once the close message has gone (or
// could not go in time), so that the reason is likelier to arrive before
// the connection's end.
func (s *Session) shutdown() {
	defer close(s.pcClosed)
	t := time.NewTimer(closeTimeout + time.Second)
	select {
	case <-s.sendDone:
	case <-t.C:
	}
	t.Stop()
	if err := s.pc.Close(); err != nil {
		s.log.Debug("closing the connection", "err", err)
	}
}

// closeReason is err as a close message's reason.
func closeReason(err error) string {
	if errors.Is(err, ErrClosed) {
		return "closed"
	}
	return truncate(oneLine(strings.TrimPrefix(err.Error(), "media: ")), maxReason)
}
