package tlsnet

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/time/rate"

	"soitto/login/ca"
	"soitto/overlay"
	"soitto/overlay/wire"
)

// Defaults for the zero values of Config's fields.
const (
	DefaultCallTimeout            = 5 * time.Second
	DefaultDialTimeout            = 5 * time.Second
	DefaultIdleTimeout            = 2 * time.Minute
	DefaultPeerRate    rate.Limit = 200
	DefaultPeerBurst              = 400
	DefaultMaxInflight            = 64
)

// Config configures a Net.
type Config struct {
	// Self is this node. It must be zero for a client, which only dials;
	// then Certificate is a user certificate.
	Self overlay.Node

	// Certificate is the node certificate (ca.IssueNode, naming
	// Self.Addr) or, for a client, the user certificate (ca.IssueUser),
	// with its private key. New checks it against Roots.
	Certificate tls.Certificate

	// Roots holds the network's CA. Required.
	Roots *x509.CertPool

	// Handler answers requests arriving on any link, also on links this
	// side dialled: requests may flow both ways on one connection. It
	// must return when its ctx ends (Close waits for it). If nil every
	// request is refused with wire.CodeForbidden, as a pure client wants.
	Handler overlay.Handler

	// Logger; if nil, slog.Default().
	Logger *slog.Logger

	// Now is the clock for certificate validity and rate limits; timeouts
	// use the real clock. If nil, time.Now.
	Now func() time.Time

	// CallTimeout bounds a Call (dial included) when its ctx has no
	// earlier deadline, and a handler's ctx. If zero, DefaultCallTimeout.
	CallTimeout time.Duration

	// DialTimeout bounds dialling, the TLS handshake and the Hello
	// exchange, both ways. If zero, DefaultDialTimeout.
	DialTimeout time.Duration

	// IdleTimeout: a link with no frame received or sent, no call waiting
	// and no request being handled for this long is closed. If zero,
	// DefaultIdleTimeout.
	IdleTimeout time.Duration

	// PeerRate is the requests per second accepted from one peer, keyed
	// by its certificate name across all its links; more are answered
	// with wire.CodeRateLimited. If zero, DefaultPeerRate.
	PeerRate rate.Limit

	// PeerBurst is how many requests a peer may send at once above
	// PeerRate. If zero, DefaultPeerBurst.
	PeerBurst int

	// MaxInflight is how many requests are handled at once per link;
	// more are answered with wire.CodeRateLimited rather than queued.
	// If zero, DefaultMaxInflight.
	MaxInflight int

	// OnClose, if set, is called (on its own goroutine) after a link
	// closes, with the link as an overlay.Conn: a super-peer drops the
	// attachment of a client whose link is gone.
	OnClose func(overlay.Conn)

	// AcceptClients lets clients (user certificates, no node in Hello)
	// link to this node; if false only ring members may.
	AcceptClients bool
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.CallTimeout == 0 {
		c.CallTimeout = DefaultCallTimeout
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.PeerRate == 0 {
		c.PeerRate = DefaultPeerRate
	}
	if c.PeerBurst == 0 {
		c.PeerBurst = DefaultPeerBurst
	}
	if c.MaxInflight == 0 {
		c.MaxInflight = DefaultMaxInflight
	}
}

// validate checks a Config with its defaults set.
func (c *Config) validate() error {
	switch {
	case c.Roots == nil:
		return errors.New("tlsnet: Config.Roots is nil")
	case len(c.Certificate.Certificate) == 0 || c.Certificate.PrivateKey == nil:
		return errors.New("tlsnet: Config.Certificate needs a certificate and its private key")
	case c.CallTimeout < 0 || c.DialTimeout < 0 || c.IdleTimeout < 0:
		return errors.New("tlsnet: negative timeout")
	case c.PeerRate < 0 || c.PeerBurst < 0 || c.MaxInflight < 0:
		return errors.New("tlsnet: negative PeerRate, PeerBurst or MaxInflight")
	}
	leaf, err := x509.ParseCertificate(c.Certificate.Certificate[0])
	if err != nil {
		return fmt.Errorf("tlsnet: certificate: %w", err)
	}
	signer, ok := c.Certificate.PrivateKey.(crypto.Signer)
	if !ok {
		return errors.New("tlsnet: private key cannot sign")
	}
	if pub, ok := leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(signer.Public()) {
		return errors.New("tlsnet: private key does not match the certificate")
	}
	if c.Self.IsZero() {
		if _, err := ca.VerifyUser(c.Roots, leaf, c.Now(), ""); err != nil {
			return fmt.Errorf("tlsnet: a client needs a user certificate: %w", err)
		}
		return nil
	}
	if c.Self.ID != overlay.IDOf(c.Self.Addr) {
		return fmt.Errorf("tlsnet: %w: Self %s", wire.ErrBadID, c.Self)
	}
	if _, err := ca.VerifyNode(c.Roots, leaf, c.Now(), c.Self.Addr); err != nil {
		return fmt.Errorf("tlsnet: certificate for Self: %w", err)
	}
	return nil
}
