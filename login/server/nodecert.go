package server

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"net"
	"net/http"
	"net/netip"
	"time"

	"soitto/bootstrap"
	"soitto/login/api"
	"soitto/login/ca"
)

// PromotedNodeValidity is how long a promoted client's node certificate
// is valid: a day, like user certificates, so a client that stops being
// a super-peer does not keep a usable one for long.
const PromotedNodeValidity = 24 * time.Hour

// nodeCert issues a super-peer certificate to a client being promoted.
// The client proves it holds a current user certificate of this CA (a
// signature by its key), the address must be the IP the request comes
// from, and a TCP connection to it must succeed: the inbound test.
func (s *Server) nodeCert(w http.ResponseWriter, r *http.Request) (any, error) {
	if err := readBody(w, r); err != nil {
		return nil, err
	}
	req, err := api.DecodeNodeCert(r.Body)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	userCert, err := bootstrap.ParseCertificatePEM([]byte(req.Certificate))
	if err != nil {
		return nil, api.Refuse(api.CodeBadCredentials, "certificate: %v", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(s.cfg.CA.Cert)
	user, err := ca.VerifyUser(roots, userCert, now, "")
	if err != nil {
		return nil, api.Refuse(api.CodeBadCredentials, "certificate: %v", err)
	}
	if d := now.Sub(time.Unix(req.Time, 0)); d > 2*time.Minute || d < -2*time.Minute {
		return nil, api.Refuse(api.CodeBadRequest, "signature time is %v off the server's clock", d.Round(time.Second))
	}
	key, ok := userCert.PublicKey.(*ecdsa.PublicKey)
	digest := sha256.Sum256(api.NodeCertSigned(req.Addr, req.PublicKey, req.Time))
	if !ok || !ecdsa.VerifyASN1(key, digest[:], req.Signature) {
		return nil, api.Refuse(api.CodeBadCredentials, "signature does not verify with %s's certificate", user)
	}
	pub, err := x509.ParsePKIXPublicKey(req.PublicKey)
	if err != nil {
		return nil, api.Refuse(api.CodeInvalidKey, "public_key is not a DER SubjectPublicKeyInfo")
	}
	if err := ca.CheckPublicKey(pub); err != nil {
		return nil, api.Refuse(api.CodeInvalidKey, "%v", err)
	}
	if err := bootstrap.CheckHostPort(req.Addr); err != nil {
		return nil, api.Refuse(api.CodeBadRequest, "addr %q: %v", req.Addr, err)
	}
	ap, err := netip.ParseAddrPort(req.Addr)
	if err != nil {
		return nil, api.Refuse(api.CodeBadRequest, "addr %q is not ip:port", req.Addr)
	}
	from, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil || from.Addr().Unmap() != ap.Addr().Unmap() {
		return nil, api.Refuse(api.CodeNotReachable, "addr %s is not the address the request came from (%s)", ap.Addr(), r.RemoteAddr)
	}
	conn, err := net.DialTimeout("tcp", req.Addr, 3*time.Second)
	if err != nil {
		return nil, api.Refuse(api.CodeNotReachable, "no inbound connection to %s: %v", req.Addr, err)
	}
	conn.Close()
	cert, err := s.cfg.CA.IssueNodeFor(req.Addr, pub, PromotedNodeValidity)
	if err != nil {
		return nil, err
	}
	s.log.Info("promoted", "user", user, "addr", req.Addr, "serial", cert.SerialNumber.Text(16))
	return api.NodeCertResponse{Certificate: string(ca.PEM(cert)), NotAfter: cert.NotAfter.UTC()}, nil
}
