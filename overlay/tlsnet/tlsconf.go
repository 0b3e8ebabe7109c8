package tlsnet

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"

	"soitto/login/ca"
	"soitto/overlay/wire"
)

// serverTLS is what a listener speaks: TLS 1.3, the overlay's ALPN, and a
// client certificate from the network's CA. What the certificate must name
// is checked against Hello afterwards (checkHello).
// One Config serves every accepted connection.
func (n *Net) serverTLS() *tls.Config {
	n.srvOnce.Do(func() { n.srvTLS = n.newServerTLS() })
	return n.srvTLS
}

func (n *Net) newServerTLS() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		NextProtos:   []string{wire.ALPN},
		Certificates: []tls.Certificate{n.cfg.Certificate},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    n.cfg.Roots,
		Time:         n.cfg.Now,
		// Every link gets a full handshake, so every certificate check runs.
		SessionTicketsDisabled: true,
	}
}

// clientTLS is what a dialler of addr speaks. Go's verification would
// match a host name; a node certificate must instead name exactly the
// "ip:port" dialled, so VerifyConnection does the whole check:
// ca.VerifyNode verifies the chain to Roots, validity, and the address.
func (n *Net) clientTLS(addr string) *tls.Config {
	host, _, _ := net.SplitHostPort(addr)
	return &tls.Config{
		MinVersion:         tls.VersionTLS13,
		NextProtos:         []string{wire.ALPN},
		ServerName:         host,
		InsecureSkipVerify: true, // replaced by VerifyConnection, not skipped
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("no certificate")
			}
			if cs.NegotiatedProtocol != wire.ALPN {
				return fmt.Errorf("%s does not speak %s", addr, wire.ALPN)
			}
			_, err := ca.VerifyNode(n.cfg.Roots, cs.PeerCertificates[0], n.cfg.Now(), addr)
			return err
		},
		// Always present our certificate, even when the listener's CA
		// list does not match it, so that it refuses with a reason.
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return &n.cfg.Certificate, nil
		},
		Time: n.cfg.Now,
	}
}
